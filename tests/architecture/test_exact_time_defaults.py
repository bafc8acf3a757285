"""A column that defaults to the exact time dates whatever row writes it (DESIGN.md
promise 7): written by a reporter's action, it would place the report below the day.
Each such default is listed here with who writes the row, so a new one is a decision,
not an accident (a reporter-written column gets a day, or its writer passes a day label
as Message does)."""

from __future__ import annotations

from app.models import Base
from app.models.base import utcnow

# table.column -> who writes it, and why its exact time may stand.
REVIEWED = {
    "access_change_requests.requested_at": "an administrator's request",
    "invitations.created_at": "an administrator",
    "memberships.created_at": "an administrator",
    "recovery_keys.created_at": "the operator at init",
    "reviewers.created_at": "an administrator or enrolment",
    "units.created_at": "the operator at init",
    "messages.created_at": "reviewers; a reporter's message passes its day label "
    "(app.cases.messages, tests/test_time_at_rest.py)",
    "notes.created_at": "reviewers only",
    "pending_grants.created_at": "access changes by staff",
    "recusals.created_at": "a reviewer recusing",
    "notifications.created_at": "mail to staff, sent the next day for reporter events",
    "notifications.not_before": "mail to staff",
}


def _exact_time_defaults() -> set[str]:
    found = set()
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            # SQLAlchemy wraps a callable default; its name survives the wrapping.
            arg = getattr(column.default, "arg", None)
            if getattr(arg, "__name__", None) == utcnow.__name__:
                found.add(f"{table.name}.{column.name}")
    return found


def test_every_exact_time_default_was_reviewed() -> None:
    found = _exact_time_defaults()
    assert "messages.created_at" in found  # positive control: the scan sees defaults
    assert found == set(REVIEWED), "a new column defaults to the exact time: see the docstring"
