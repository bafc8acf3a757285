"""The end of a reporter's day: what their actions held back is released.

A reporter's actions write no time and take no place in any sequence (DESIGN.md
promise 7): their audit events wait in ``held_audit_events`` (app.audit) and the
notices to reviewers in ``held_notifications`` (app.notifications.outbox). Once the
local day is over, :func:`release_finished_days` chains the events (day by day, in
random order, dated to their day) and queues the notices. It runs from cron
(``flask --app wsgi:review_app audit release``, and at the start of ``notify send``
and ``purge``); the audit part also runs by itself before any later audit event is
written, so the chain stays in day order without cron.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete
from sqlalchemy.orm import Session

from app import audit, clock
from app.models import HeldNotification
from app.notifications import outbox


@dataclass(frozen=True)
class Released:
    events: int
    notices: int


def release_finished_days(session: Session, *, notify: bool, today: date | None = None) -> Released:
    """Release everything held for days before ``today`` (the local day now), in the
    caller's transaction. With ``notify`` off (no SMTP), held notices are dropped, as
    nothing is queued while notifications are off."""
    day = today or clock.today()
    events = audit.release_held(session, day)
    if notify:
        notices = outbox.release_held(session, day)
    else:
        session.execute(delete(HeldNotification).where(HeldNotification.day < day))
        notices = 0
    return Released(len(events), notices)
