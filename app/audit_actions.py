"""Every action the audit log may record, by its stable code.

The log stores codes, and the review app shows each with a label in both languages
(app/review/audit_labels.py). An action recorded under a code nobody registered would
show raw, and a typo would split one kind of event into two: ``audit.record`` and
``audit.hold`` refuse a code that is not listed here, and tests/review/test_audit_labels.py
fails when a listed code has no label.
"""

from __future__ import annotations

AUDIT_ACTIONS: frozenset[str] = frozenset(
    {
        # a case's life
        "case.submitted",
        "case.viewed",
        "case.acknowledged",
        "case.information_requested",
        "case.triage_resumed",
        "case.priority_set",
        "case.assigned",
        "case.routed",
        "case.recused",
        "case.closed",
        "case.reopened",
        # the statutory process of a named denunciation (app/cases/legal_process.py)
        "case.accepted",
        "case.acceptance_refused",
        "case.transferred",
        "case.extended",
        "case.concluded",
        "notice.downloaded",
        # referral to the investigation agency, outcomes, recovery (issue 14)
        "referral.sent",
        "referral.procuracy_notified",
        "referral.extended",
        "referral.result_recorded",
        "outcome.recorded",
        "outcome.withdrawn",
        "recovery.entry_added",
        "case.exported",
        "case.file_exported",
        "case.purged",
        "case.legal_hold_set",
        "case.legal_hold_released",
        "message.from_reporter",
        "message.to_reporter",
        "note.added",
        "attachment.downloaded",
        "grants.fulfilled",
        # a named denunciation's sealed identity (app.cases.identity, unsealing, resealing)
        "identity.opened",
        "identity.unseal_requested",
        "identity.unsealed",
        "identity.unseal_refused",
        "identity.resealed",
        "custodian.designated",
        "custodian.removed",
        # oversight
        "dashboard.viewed",
        "dashboard.exported",
        "audit.head_published",
        # people, units and keys
        "login.succeeded",
        "login.failed",
        "logout",
        "invitation.created",
        "reviewer.created",
        "reviewer.deactivated",
        "reviewer.email_set",
        "reviewer.key_reset",
        "reviewer.memberships_changed",
        "reviewer.password_changed",
        "reviewer.password_reset",
        "reviewer.role_changed",
        "reviewer.totp_reset",
        "unit.created",
        "unit.updated",
        "recovery_key.set",
        "access_change.requested",
        "access_change.approved",
        "access_change.refused",
        "access_change.expired",
    }
)


class UnknownAuditActionError(ValueError):
    """A code missing from AUDIT_ACTIONS: register it (and give it a label) first."""


def check_action(action: str) -> str:
    if action not in AUDIT_ACTIONS:
        raise UnknownAuditActionError(f"audit action {action!r} is not in AUDIT_ACTIONS")
    return action
