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
        "case.legal_hold_set": _l("Legal hold set"),
        "case.legal_hold_released": _l("Legal hold released"),
    }
