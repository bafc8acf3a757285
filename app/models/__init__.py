"""SQLAlchemy 2.0 typed models. Import from here; the split into modules is by concern."""

from app.models.audit import AuditEvent
from app.models.base import Base, UTCDateTime, utcnow
from app.models.cases import (
    Blob,
    Case,
    CaseExclusion,
    CaseKey,
    CaseReferenceCounter,
    Message,
    Note,
    PendingGrant,
    Recusal,
)
from app.models.intake import SpentPowChallenge
from app.models.notifications import Notification
from app.models.people import Invitation, Membership, RecoveryKey, Reviewer, Unit
from app.models.web import WebSession

__all__ = [
    "AuditEvent",
    "Base",
    "Blob",
    "Case",
    "CaseExclusion",
    "CaseKey",
    "CaseReferenceCounter",
    "Invitation",
    "Membership",
    "Message",
    "Note",
    "Notification",
    "PendingGrant",
    "RecoveryKey",
    "Recusal",
    "Reviewer",
    "SpentPowChallenge",
    "UTCDateTime",
    "Unit",
    "WebSession",
    "utcnow",
]
