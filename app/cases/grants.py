"""Rewrapping a case's keys for the people who should read it now.

The content of a case is never re-encrypted: only its two key wraps are rewritten, for
the holding unit's current readers, the recovery key, and (case key only) the reporter.
Rewrapping needs someone who can open a wrap already: a reader whose session holds
their key, or the offline recovery identity (``flask grants fulfil --identity``).
When a reviewer joins a unit or gets a new key, what they should read is queued as
pending grants until such a person comes by. The same queue carries revocations: a
reviewer who left a unit, was deactivated, or joined a unit the reporter excluded is
still in the wraps until a rewrap leaves them out.

Races. Every rewrap first locks the case row (``SELECT … FOR NO KEY UPDATE``: it waits
for another rewrap or routing, not for an insert that refers to the case) and reads the
holding unit again under the lock: without it, a grant fulfilled while the case is
being routed could compute the old unit's readers, wait for the routing to commit, and
then write the old unit back into the wraps (tests/cases/test_rewrap_race.py). Several
cases are locked in id order, before any audit event is written, so two rewrapping
transactions cannot deadlock on each other or on the audit chain's lock.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app import audit
from app.cases.keys import (
    active_recovery_recipient,
    excluded_unit_ids,
    recipient_lines,
    try_unwrap,
    unit_reader_recipients,
    wrap_identity_to_recipients,
)
from app.models import (
    Case,
    CaseExclusion,
    CaseKey,
    Membership,
    PendingGrant,
    Recusal,
    Reviewer,
)
from app.models.vocabulary import KeyKind
from crypto import Identity, Recipient

# Pending rows that take someone out of the wraps rather than add them: not "waiting for
# access" from the reviewer's point of view.
REVOCATION_REASONS = ("left", "deactivated", "excluded")


class RewrapError(RuntimeError):
    """The wraps cannot be opened with the identities at hand."""


def lock_case(session: Session, case: Case) -> Case:
    """Lock ``case``'s row until the transaction ends and read it again (a routing that
    committed meanwhile may have changed its holding unit). SQLite has no row locks;
    its write transactions are serialised at BEGIN IMMEDIATE (app.database)."""
    locked = session.scalar(
        select(Case)
        .where(Case.id == case.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    if locked is None:
        raise RewrapError("the case no longer exists")
    return locked


def _lock_cases(session: Session, case_ids: Sequence[str]) -> list[Case]:
    """Lock several cases in id order (one order for every transaction: no deadlock)."""
    return list(
        session.scalars(
            select(Case)
            .where(Case.id.in_(sorted(case_ids)))
            .order_by(Case.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
    )


@dataclass(frozen=True)
class RewrapResult:
    case_id: str
    readers: int


def desired_recipients(session: Session, case: Case, kind: KeyKind) -> list[Recipient]:
    readers = unit_reader_recipients(
        session,
        case.holding_unit_id,
        excluded_unit_ids=excluded_unit_ids(session, case.id),
        case_id=case.id,
    )
    recipients = [*readers, active_recovery_recipient(session)]
    if kind is KeyKind.CASE:
        recipients.append(Recipient.parse(case.reporter_recipient))
    return recipients


def open_case_keys(
    session: Session, case: Case, identities: Sequence[Identity]
) -> dict[KeyKind, Identity]:
    keys = {}
    for wrap in session.scalars(select(CaseKey).where(CaseKey.case_id == case.id)):
        identity = try_unwrap(wrap.wrap, identities)
        if identity is None:
            raise RewrapError(f"the {wrap.kind} key wrap of this case cannot be opened")
        keys[KeyKind(wrap.kind)] = identity
    return keys


def rewrap_case(session: Session, case: Case, identities: Sequence[Identity]) -> RewrapResult:
    """Rewrite both wraps for the current readers (in the caller's transaction), with the
    case row locked first."""
    case = lock_case(session, case)
    keys = open_case_keys(session, case, identities)
    readers = 0
    for wrap in session.scalars(select(CaseKey).where(CaseKey.case_id == case.id)):
        kind = KeyKind(wrap.kind)
        recipients = desired_recipients(session, case, kind)
        wrap.wrap = wrap_identity_to_recipients(keys[kind], recipients)
        wrap.recipients = recipient_lines(recipients)
        readers = len(recipients)
    session.execute(delete(PendingGrant).where(PendingGrant.case_id == case.id))
    session.flush()
    return RewrapResult(case.id, readers)


def queue_grants_for_member(session: Session, reviewer_id: int, unit_id: int, reason: str) -> int:
    """Queue every case held by ``unit_id`` that ``reviewer_id`` should read."""
    excluded_for_reviewer = select(CaseExclusion.case_id).where(
        CaseExclusion.unit_id.in_(
            select(Membership.unit_id).where(Membership.reviewer_id == reviewer_id)
        )
    )
    recused = select(Recusal.case_id).where(Recusal.reviewer_id == reviewer_id)
    already = select(PendingGrant.case_id).where(PendingGrant.reviewer_id == reviewer_id)
    case_ids = session.scalars(
        select(Case.id).where(
            Case.holding_unit_id == unit_id,
            Case.id.not_in(excluded_for_reviewer),
            Case.id.not_in(recused),
            Case.id.not_in(already),
        )
    ).all()
    session.add_all(
        PendingGrant(case_id=case_id, reviewer_id=reviewer_id, reason=reason)
        for case_id in case_ids
    )
    session.flush()
    return len(case_ids)


def queue_exclusion_revocations(session: Session, reviewer_id: int, unit_id: int) -> int:
    """The reviewer just joined ``unit_id``: every case that excluded that unit and whose
    wraps still open with the reviewer's key must be rewrapped without them.

    ``readable_by`` already hides such a case from them in SQL; this makes the keys
    agree. Found from the wraps themselves (their recipient lists), so it also covers a
    case they read through a unit they have since left and that nobody rewrapped yet.
    """
    public_key = session.scalar(select(Reviewer.public_key).where(Reviewer.id == reviewer_id))
    if not public_key:
        return 0
    case_ids = set(
        session.scalars(
            select(CaseKey.case_id).where(
                CaseKey.case_id.in_(
                    select(CaseExclusion.case_id).where(CaseExclusion.unit_id == unit_id)
                ),
                CaseKey.recipients.contains(public_key),
            )
        )
    )
    if not case_ids:
        return 0
    queued = dict(
        session.execute(
            select(PendingGrant.case_id, PendingGrant.id).where(
                PendingGrant.reviewer_id == reviewer_id, PendingGrant.case_id.in_(case_ids)
            )
        ).all()
    )
    for grant in session.scalars(select(PendingGrant).where(PendingGrant.id.in_(queued.values()))):
        grant.reason = "excluded"
    session.add_all(
        PendingGrant(case_id=case_id, reviewer_id=reviewer_id, reason="excluded")
        for case_id in sorted(case_ids - set(queued))
    )
    session.flush()
    return len(case_ids)


def queue_grants_for_reviewer(session: Session, reviewer_id: int, reason: str) -> int:
    """After a key reset: every case of every unit of the reviewer."""
    units = session.scalars(
        select(Membership.unit_id).where(Membership.reviewer_id == reviewer_id)
    ).all()
    return sum(queue_grants_for_member(session, reviewer_id, unit, reason) for unit in units)


def fulfil_pending_grants(
    session: Session,
    identities: Sequence[Identity],
    *,
    actor_label: str,
    case_ids: Sequence[str] | None = None,
    limit: int = 200,
) -> list[RewrapResult]:
    """Rewrap the cases with pending grants that ``identities`` can open. Cases they
    cannot open stay pending for someone else. Audited per case."""
    query = select(PendingGrant.case_id).distinct().limit(limit)
    if case_ids is not None:
        query = query.where(PendingGrant.case_id.in_(case_ids))
    done = []
    locked = _lock_cases(session, session.scalars(query).all())
    # Another transaction may have fulfilled some while we waited for the locks.
    still_pending = set(
        session.scalars(
            select(PendingGrant.case_id).where(PendingGrant.case_id.in_([c.id for c in locked]))
        )
    )
    for case in locked:
        if case.id not in still_pending:
            continue
        try:
            result = rewrap_case(session, case, identities)
        except RewrapError:
            continue
        audit.record(
            session,
            actor=actor_label,
            action="grants.fulfilled",
            case_id=case.id,
            details={"readers": result.readers},
        )
        done.append(result)
    return done


def grantable_cases(
    session: Session, unit_ids: Collection[int], wanted: int = 50, batch: int = 500
) -> list[str]:
    """Cases with pending grants held by ``unit_ids`` (whose members can rewrap them).

    Starts from the (usually empty) pending grants rather than the units' cases:
    scanning a unit's 40,000 cases on every inbox load cost 85 ms.
    """
    found: list[str] = []
    waiting = session.scalars(select(PendingGrant.case_id).distinct()).all()
    for start in range(0, len(waiting), batch):
        found += session.scalars(
            select(Case.id).where(
                Case.id.in_(waiting[start : start + batch]), Case.holding_unit_id.in_(unit_ids)
            )
        ).all()
        if len(found) >= wanted:
            break
    return found[:wanted]


def pending_grants(session: Session) -> list[PendingGrant]:
    return list(session.scalars(select(PendingGrant).order_by(PendingGrant.created_at)))


def pending_grant_rows(
    session: Session, limit: int
) -> tuple[list[tuple[PendingGrant, str, str]], int]:
    """The oldest ``limit`` pending grants with case reference and reviewer name, and
    how many there are in all (for the admins' keys page)."""
    rows = session.execute(
        select(PendingGrant, Case.reference, Reviewer.username)
        .join(Case, Case.id == PendingGrant.case_id)
        .join(Reviewer, Reviewer.id == PendingGrant.reviewer_id)
        .order_by(PendingGrant.created_at)
        .limit(limit)
    ).all()
    total = int(session.scalar(select(func.count()).select_from(PendingGrant)) or 0)
    return [(grant, reference, username) for grant, reference, username in rows], total


def grants_awaited_by(session: Session, reviewer_id: int) -> int:
    """How many cases ``reviewer_id`` is still waiting to be given the keys of."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(PendingGrant)
            .where(
                PendingGrant.reviewer_id == reviewer_id,
                PendingGrant.reason.not_in(REVOCATION_REASONS),
            )
        )
        or 0
    )
