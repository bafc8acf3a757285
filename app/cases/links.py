"""Related cases: staff link two cases as duplicates (đơn trùng) or related matters (the
same official, the same project), with a reason.

The rule of visibility, stated once here: a reviewer sees a link only when they can read
BOTH of its cases (app.cases.access, the one access rule). Linking reveals nothing
across units: not the other case's reference, not even that a link exists - the list,
the timeline events of linking and unlinking, and the refusals all hide it. A reference
the reviewer cannot read is refused exactly as one that does not exist.

The reason is typed by staff about two cases: it is encrypted to the staff keys of both
cases (never a case key, so never the reporter), as a note blob of the first case of the
pair. Only the kind and the day are in clear, because the dashboard counts duplicate
groups (app.cases.unique_matters) from ids alone, without decrypting anything.

Unlinking needs a reason too, encrypted the same way. It is not an irreversible action
(the same pair can be linked again, and both reasons stay encrypted in the store,
referenced by the audit events), so it does not ask for ``confirm=yes``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol, TypeVar

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import audit, clock
from app.cases.access import Actor, readable_by, require_reader
from app.cases.messages import MessageError, check_text
from app.cases.notes import read_staff_text, seal_staff_text
from app.models import Blob, Case, CaseLink, Reviewer
from app.models.vocabulary import CaseLinkKind
from app.storage import BlobStore
from crypto import AgeError, Identity

LINK_ACTIONS = frozenset({"case.linked", "case.unlinked"})


class LinkError(ValueError):
    """A link or unlink that is refused; nothing was changed. ``code`` names why."""

    code = "invalid_link"


class SelfLinkError(LinkError):
    code = "self_link"


class AlreadyLinkedError(LinkError):
    code = "already_linked"


class UnknownOtherCaseError(LinkError):
    """No case with this reference that the reviewer can read (the same answer whether
    it does not exist or belongs to another unit)."""

    code = "unknown_case"


class UnknownLinkError(LinkError):
    code = "unknown_link"


class LinkKindError(LinkError):
    code = "invalid_kind"


class LinkReasonError(LinkError):
    code = "reason_required"


@dataclass(frozen=True)
class LinkView:
    """A link as one of its cases shows it: the other case, and the reason when the
    reviewer's staff key opens it (``None``: not readable with the key given)."""

    id: int
    kind: CaseLinkKind
    other_case_id: str
    other_reference: str
    created_day: date
    author: str
    reason: str | None


def _readable_ids(actor: Actor) -> Select[str]:
    return select(Case.id).where(readable_by(actor))


def _clean_reason(text: str) -> str:
    try:
        return check_text(text, allow_empty=False)
    except MessageError:
        raise LinkReasonError("a reason is required (and at most the length of a note)") from None


def _kind(value: str) -> CaseLinkKind:
    try:
        return CaseLinkKind(value)
    except ValueError:
        raise LinkKindError(f"not a kind of link: {value!r}") from None


def _record(session: Session, actor: Actor, action: str, link: CaseLink, **extra: str) -> None:
    """One event on each case, naming the other by id: the timeline of a case shows it
    only to readers of both (:func:`hide_unreadable_link_events`)."""
    for here, there in ((link.case_id, link.other_case_id), (link.other_case_id, link.case_id)):
        audit.record(
            session,
            actor=actor.label,
            action=action,
            case_id=here,
            details={"link": link.id, "kind": link.kind, "other_case": there, **extra},
        )


def link_cases(
    session: Session,
    store: BlobStore,
    actor: Actor,
    case: Case,
    other_reference: str,
    kind: str,
    reason: str,
) -> CaseLink:
    """Link ``case`` with the case whose reference is ``other_reference``; both must be
    readable by ``actor``. The caller commits."""
    require_reader(session, actor, case)
    link_kind = _kind(kind)
    clean = _clean_reason(reason)
    reference = other_reference.strip().upper()
    if reference == case.reference:
        raise SelfLinkError("a case cannot be linked to itself")
    other = session.scalar(select(Case).where(Case.reference == reference, readable_by(actor)))
    if other is None:
        raise UnknownOtherCaseError("no readable case with this reference")
    first, second = sorted((case, other), key=lambda c: c.id)
    existing = session.scalar(
        select(CaseLink.id).where(CaseLink.case_id == first.id, CaseLink.other_case_id == second.id)
    )
    if existing is not None:
        raise AlreadyLinkedError("these two cases are already linked")

    def record(blob_id: str) -> CaseLink:
        link = CaseLink(
            case_id=first.id,
            other_case_id=second.id,
            kind=link_kind.value,
            note_blob_id=blob_id,
            created_day=clock.today(),
            created_by=actor.reviewer_id,
        )
        session.add(link)
        session.flush()
        _record(session, actor, "case.linked", link, reason_blob=blob_id)
        return link

    recipients = [first.staff_recipient, second.staff_recipient]
    try:
        return seal_staff_text(session, store, first, recipients, clean, record)
    except IntegrityError:
        # A colleague linked the same pair at the same moment: the unique pair won.
        raise AlreadyLinkedError("these two cases are already linked") from None


def _visible_link(session: Session, actor: Actor, case: Case, link_id: int) -> CaseLink:
    link = session.scalar(
        select(CaseLink).where(
            CaseLink.id == link_id,
            or_(CaseLink.case_id == case.id, CaseLink.other_case_id == case.id),
            *_both_readable(actor),
        )
    )
    if link is None:
        raise UnknownLinkError("no such link visible on this case")
    return link


def unlink_cases(
    session: Session, store: BlobStore, actor: Actor, case: Case, link_id: int, reason: str
) -> None:
    """Remove a link of ``case`` that ``actor`` can see, with a reason (encrypted like
    the link's, and referenced with it from the audit events). The caller commits."""
    require_reader(session, actor, case)
    clean = _clean_reason(reason)
    link = _visible_link(session, actor, case, link_id)
    first = session.get(Case, link.case_id)
    second = session.get(Case, link.other_case_id)
    assert first is not None and second is not None  # the foreign keys cascade

    def record(blob_id: str) -> None:
        previous = link.note_blob_id or ""
        _record(
            session, actor, "case.unlinked", link, reason_blob=blob_id, link_reason_blob=previous
        )
        session.delete(link)
        session.flush()

    seal_staff_text(
        session, store, first, [first.staff_recipient, second.staff_recipient], clean, record
    )


def _both_readable(actor: Actor) -> list[ColumnElement[bool]]:
    readable = _readable_ids(actor)
    return [CaseLink.case_id.in_(readable), CaseLink.other_case_id.in_(readable)]


def links_of(
    session: Session,
    store: BlobStore | None,
    actor: Actor,
    case: Case,
    staff_identity: Identity | None,
) -> list[LinkView]:
    """The links of ``case`` that ``actor`` may see (both ends readable), oldest first,
    with their reasons decrypted by ``staff_identity`` (``case``'s staff key) when given."""
    rows = session.execute(
        select(CaseLink, Case.id, Case.reference, Reviewer.username, Blob)
        .join(
            Case,
            Case.id
            == func.coalesce(
                func.nullif(CaseLink.other_case_id, case.id),
                CaseLink.case_id,
            ),
        )
        .outerjoin(Reviewer, Reviewer.id == CaseLink.created_by)
        .outerjoin(Blob, Blob.id == CaseLink.note_blob_id)
        .where(or_(CaseLink.case_id == case.id, CaseLink.other_case_id == case.id))
        .where(*_both_readable(actor))
        .order_by(CaseLink.id)
    ).all()
    return [
        LinkView(
            link.id,
            CaseLinkKind(link.kind),
            other_id,
            reference,
            link.created_day,
            username or "—",
            _reason(store, blob, staff_identity),
        )
        for link, other_id, reference, username, blob in rows
    ]


def _reason(store: BlobStore | None, blob: Blob | None, identity: Identity | None) -> str | None:
    if store is None or blob is None or identity is None:
        return None
    try:
        return read_staff_text(store, blob, identity)
    except (AgeError, ValueError, OSError):
        return None  # damaged, or not to this key: the page says it cannot be read


class _LinkEvent(Protocol):
    @property
    def action(self) -> str: ...

    @property
    def details(self) -> dict[str, object]: ...


E = TypeVar("E", bound=_LinkEvent)


def hide_unreadable_link_events(session: Session, actor: Actor, events: Sequence[E]) -> list[E]:
    """A case's timeline without the linking events whose other case ``actor`` cannot
    read: otherwise the timeline would say that a link to a hidden case exists."""
    others = {
        str(e.details.get("other_case"))
        for e in events
        if e.action in LINK_ACTIONS and e.details.get("other_case")
    }
    readable = (
        set(session.scalars(_readable_ids(actor).where(Case.id.in_(others)))) if others else set()
    )
    return [
        e
        for e in events
        if e.action not in LINK_ACTIONS or str(e.details.get("other_case")) in readable
    ]
