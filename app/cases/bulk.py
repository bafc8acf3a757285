"""One action on several cases from the inbox: acknowledge them, or assign them.

All or nothing. Each case goes through the very function its own page calls
(:func:`app.cases.actions.acknowledge`, :func:`app.cases.workflow.assign`), with the
same checks and the same audit event per case, in the caller's one unit of work. The
first case that a rule refuses stops the batch with :class:`BulkRefused`, naming it;
the caller rolls back, so nothing of the batch is kept (nor a notice file staged).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.orm import Session

from app.cases import actions, workflow
from app.cases.access import AccessDenied, Actor, readable_case
from app.cases.inbox import PAGE_SIZE
from app.cases.notices import NoticeError
from app.storage import BlobStore

# At most one inbox page at a time: a batch is what the reviewer has in front of them.
BULK_LIMIT = PAGE_SIZE


class BulkAction(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"


class BulkError(ValueError):
    """The batch as a whole is wrong (nothing chosen, too many, a case not readable)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class BulkRefused(Exception):
    """The rule refused one case: ``reference`` names it, ``cause`` is the refusal its
    own page would have shown."""

    reference: str
    cause: workflow.WorkflowError | NoticeError


def apply_bulk(
    session: Session,
    store: BlobStore,
    actor: Actor,
    action: BulkAction,
    case_ids: Sequence[str],
    assignee_id: int | None = None,
) -> list[str]:
    """Apply ``action`` to every case, in order; returns their references."""
    chosen = list(dict.fromkeys(case_ids))
    if not chosen:
        raise BulkError("none_selected")
    if len(chosen) > BULK_LIMIT:
        raise BulkError("too_many")
    if not actor.reads_cases:
        raise AccessDenied("observers do not handle cases")
    references = []
    for case_id in chosen:
        try:
            case = readable_case(session, actor, case_id)
        except AccessDenied:
            # Same answer for a case of another unit and for no case at all.
            raise BulkError("not_readable") from None
        try:
            if action is BulkAction.ACKNOWLEDGE:
                actions.acknowledge(session, store, actor, case)
            else:
                workflow.assign(session, actor, case, assignee_id)
            session.flush()
        except (workflow.WorkflowError, NoticeError) as exc:
            raise BulkRefused(case.reference, exc) from exc
        references.append(case.reference)
    return references
