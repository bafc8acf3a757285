"""Readable names for audit actions (the log stores stable codes)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString


def action_labels() -> dict[str, LazyString]:
    return {
        "case.submitted": _l("Report received"),
        "case.viewed": _l("Case opened (decrypted)"),
        "case.acknowledged": _l("Acknowledged"),
        "case.information_requested": _l("More information requested"),
        "case.triage_resumed": _l("Back in triage"),
        "case.priority_set": _l("Priority set"),
        "case.assigned": _l("Assigned"),
        "case.routed": _l("Routed"),
        "case.recused": _l("A reviewer recused themselves"),
        "case.closed": _l("Closed"),
        "case.reopened": _l("Reopened"),
        "message.from_reporter": _l("Message from the reporter"),
        "message.to_reporter": _l("Reply to the reporter"),
        "note.added": _l("Internal note"),
        "attachment.downloaded": _l("Attachment downloaded"),
        "grants.fulfilled": _l("Access granted to new readers"),
        "dashboard.viewed": _l("Dashboard viewed"),
        "dashboard.exported": _l("Statistics exported"),
        "case.purged": _l("Case purged (retention)"),
        "case.exported": _l("Case exported for offline reading"),
        "case.file_exported": _l("Case file exported as PDF (decrypted)"),
        "case.legal_hold_set": _l("Legal hold set"),
        "case.legal_hold_released": _l("Legal hold released"),
        "audit.head_published": _l("Log head sent to the oversight unit"),
        "login.succeeded": _l("Logged in"),
        "login.failed": _l("Failed login"),
        "logout": _l("Logged out"),
        "invitation.created": _l("Invitation created"),
        "reviewer.created": _l("Account created"),
        "reviewer.deactivated": _l("Account deactivated"),
        "reviewer.email_set": _l("Notification e-mail changed"),
        "reviewer.key_reset": _l("Key reset"),
        "reviewer.memberships_changed": _l("Units changed"),
        "reviewer.password_changed": _l("Password changed"),
        "reviewer.password_reset": _l("Password reset"),
        "reviewer.role_changed": _l("Role changed"),
        "reviewer.totp_reset": _l("Authenticator app reset"),
        "unit.created": _l("Unit created"),
        "unit.updated": _l("Unit changed"),
        "recovery_key.set": _l("Recovery key set"),
        "access_change.requested": _l("Access change requested"),
        "access_change.approved": _l("Access change approved"),
        "access_change.refused": _l("Access change refused"),
        "access_change.expired": _l("Access change expired"),
    }
