"""SQLAlchemy 2.0 typed models. Import from here; the split into modules is by concern."""

from app.models.access import AccessChangeRequest
from app.models.audit import AuditEvent, HeldAuditEvent
from app.models.base import Base, UTCDateTime, utcnow
from app.models.cases import (
    LEGACY_ID_LIMIT,
    Blob,
    Case,
    CaseExclusion,
    CaseKey,
    CaseNotice,
    CaseReferenceCounter,
    Message,
    Note,
    PendingGrant,
    Recusal,
)
from app.models.identity import SealedIdentity, UnitCustodian, UnsealRequest
from app.models.intake import SpentPowChallenge
from app.models.notifications import HeldNotification, Notification
from app.models.outcomes import CaseOutcome, OutcomeDiscipline, RecoveryEntry, Referral
from app.models.people import Invitation, Membership, RecoveryKey, Reviewer, Unit
from app.models.web import WebSession

__all__ = [
    "LEGACY_ID_LIMIT",
    "AccessChangeRequest",
    "AuditEvent",
    "Base",
    "Blob",
    "Case",
    "CaseExclusion",
    "CaseKey",
    "CaseNotice",
    "CaseOutcome",
    "CaseReferenceCounter",
    "HeldAuditEvent",
    "HeldNotification",
    "Invitation",
    "Membership",
    "Message",
    "Note",
    "Notification",
    "OutcomeDiscipline",
    "PendingGrant",
    "RecoveryEntry",
    "RecoveryKey",
    "Recusal",
    "Referral",
    "Reviewer",
    "SealedIdentity",
    "SpentPowChallenge",
    "UTCDateTime",
    "Unit",
    "UnitCustodian",
    "UnsealRequest",
    "WebSession",
    "utcnow",
]
