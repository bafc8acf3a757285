"""Hash-chained, append-only audit log.

Each event's hash is SHA-256 over the previous event's hash and a canonical encoding of
the event (sorted-key JSON, UTC timestamp to the microsecond). Changing, removing or
re-ordering any event breaks every hash after it; ``verify_chain`` names the first
broken link. Events are written in the same transaction as the action they record, so
an action without its event (or the reverse) cannot be committed.

Events never carry content: no report text, message, note or receipt - only who did
what to which case.

**Reporters' events are held, then chained by the day** (DESIGN.md promise 7). A
reviewer's event carries its exact time and its place in the chain; a reporter's event
chained at once would get a sequence number between them and so be dated to the minute
by its neighbours. :func:`hold` keeps it instead in ``held_audit_events`` with its local
day only. Once that day is over, :func:`release_held` appends the day's held events in
random order, each dated to the day (:func:`app.clock.day_stamp`), after every event of
that day and before any event of a later day: :func:`record` releases what is due
before it appends anything, so the chain stays in day order even without cron, and the
``audit release`` command (cron, also run by ``notify send`` and ``purge``) releases
what no reviewer action did. A held event is not tamper-evident until it is released:
anyone with write access to the database can change or delete it meanwhile.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app import clock
from app.audit_actions import check_action
from app.models import AuditEvent, HeldAuditEvent, utcnow

GENESIS_HASH = "0" * 64
DetailValue = str | int | bool | None | list[str]


@dataclass(frozen=True)
class BrokenLink:
    seq: int
    reason: str


def _canonical(
    seq: int,
    created_at: datetime,
    actor: str,
    case_id: str | None,
    action: str,
    details: str,
    prev_hash: str,
) -> bytes:
    record = {
        "seq": seq,
        "time": created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": actor,
        "case": case_id,
        "action": action,
        "details": details,
        "prev": prev_hash,
    }
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _event_hash(event: AuditEvent) -> str:
    return hashlib.sha256(
        _canonical(
            event.seq,
            event.created_at,
            event.actor,
            event.case_id,
            event.action,
            event.details,
            event.prev_hash,
        )
    ).hexdigest()


def _lock_chain(session: Session) -> None:
    # Two writers must not both extend the chain from the same tail. SQLite's write
    # transactions are already serialised (BEGIN IMMEDIATE); PostgreSQL needs a lock.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7346021)"))


def _append(
    session: Session,
    *,
    actor: str,
    action: str,
    case_id: str | None,
    details: str,
    when: datetime,
) -> AuditEvent:
    session.flush()
    tail = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev = (tail[0] + 1, tail[1]) if tail else (1, GENESIS_HASH)
    event = AuditEvent(
        seq=seq,
        created_at=when,
        actor=actor,
        case_id=case_id,
        action=action,
        details=details,
        prev_hash=prev,
        hash="",
    )
    event.hash = _event_hash(event)
    session.add(event)
    session.flush()
    return event


def _details(details: Mapping[str, DetailValue] | None) -> str:
    return json.dumps(dict(details or {}), sort_keys=True, ensure_ascii=False)


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    case_id: str | None = None,
    details: Mapping[str, DetailValue] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append an event in the caller's transaction (committed with the action).

    Held reporter events of earlier days are chained first, so that this event comes
    after them. A reporter's action never calls this: it calls :func:`hold`.
    """
    check_action(action)
    _lock_chain(session)
    today = clock.today()
    if session.scalar(select(HeldAuditEvent.id).where(HeldAuditEvent.day < today).limit(1)):
        release_held(session, today)
    return _append(
        session,
        actor=actor,
        action=action,
        case_id=case_id,
        details=_details(details),
        when=at or utcnow(),
    )


def hold(
    session: Session,
    *,
    action: str,
    day: date,
    case_id: str | None = None,
    details: Mapping[str, DetailValue] | None = None,
    actor: str = "reporter",
) -> HeldAuditEvent:
    """Keep a reporter's event, with its day only, until the day is over (caller's
    transaction). See the module docstring."""
    check_action(action)
    event = HeldAuditEvent(
        id=secrets.token_hex(16),
        day=day,
        actor=actor,
        case_id=case_id,
        action=action,
        details=_details(details),
    )
    session.add(event)
    session.flush()
    return event


def release_held(session: Session, today: date | None = None) -> list[AuditEvent]:
    """Chain every held event of a day before ``today`` (the local day now): day by
    day, each day's events in random order, each dated to its day. In the caller's
    transaction; returns the events appended."""
    _lock_chain(session)
    before = today or clock.today()
    held = session.scalars(
        select(HeldAuditEvent).where(HeldAuditEvent.day < before).order_by(HeldAuditEvent.day)
    ).all()
    released = []
    for day, group in groupby(held, key=lambda event: event.day):
        batch = list(group)
        # Random, not the order they were written (nor their random ids' order, which
        # says nothing but is stable): nothing in the chain says which came first.
        secrets.SystemRandom().shuffle(batch)
        for event in batch:
            released.append(
                _append(
                    session,
                    actor=event.actor,
                    action=event.action,
                    case_id=event.case_id,
                    details=event.details,
                    when=clock.day_stamp(day),
                )
            )
            session.delete(event)
    session.flush()
    return released


@dataclass(frozen=True)
class HeldDay:
    day: date
    events: int


def held_days(session: Session) -> list[HeldDay]:
    """How many reporter events wait to be chained, per day (oldest first)."""
    rows = session.execute(
        select(HeldAuditEvent.day, func.count())
        .group_by(HeldAuditEvent.day)
        .order_by(HeldAuditEvent.day)
    )
    return [HeldDay(day, int(count)) for day, count in rows]


def held_for_case(session: Session, case_id: str) -> list[HeldAuditEvent]:
    """A case's events not yet chained, by day (for the case page's timeline)."""
    return list(
        session.scalars(
            select(HeldAuditEvent)
            .where(HeldAuditEvent.case_id == case_id)
            .order_by(HeldAuditEvent.day, HeldAuditEvent.action)
        )
    )


def verify_chain(session: Session, batch: int = 5000) -> tuple[int, BrokenLink | None]:
    """Check every event in order. Returns (events checked, first broken link or None)."""
    prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    last_seq = 0
    while True:
        events = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.seq > last_seq)
            .order_by(AuditEvent.seq)
            .limit(batch)
        ).all()
        if not events:
            return checked, None
        for event in events:
            if event.seq != expected_seq:
                return checked, BrokenLink(expected_seq, "event missing (sequence gap)")
            if event.prev_hash != prev:
                return checked, BrokenLink(event.seq, "does not chain to the previous event")
            if _event_hash(event) != event.hash:
                return checked, BrokenLink(event.seq, "content does not match its hash")
            prev = event.hash
            expected_seq += 1
            checked += 1
            last_seq = event.seq


@dataclass(frozen=True)
class AuditFilter:
    """What an administrator narrows the log to; empty fields filter nothing."""

    action: str = ""
    actor: str = ""
    case_id: str = ""
    before: int = 0  # only events older than this sequence number (paging)


def browse(session: Session, where: AuditFilter, limit: int) -> list[AuditEvent]:
    """Newest first, at most ``limit`` events."""
    query = select(AuditEvent).order_by(AuditEvent.seq.desc())
    if where.action:
        query = query.where(AuditEvent.action == where.action)
    if where.actor:
        query = query.where(AuditEvent.actor == where.actor)
    if where.case_id:
        query = query.where(AuditEvent.case_id == where.case_id)
    if where.before > 0:
        query = query.where(AuditEvent.seq < where.before)
    return list(session.scalars(query.limit(limit)))


def recorded_actions(session: Session) -> list[str]:
    return sorted(session.scalars(select(AuditEvent.action).distinct()))


# --- the anchor: a head written down outside the database --------------------------------
#
# The chain starts from a constant and carries no key, so whoever can write to the
# database can cut off the newest events, or rewrite any of them and recompute every hash
# after it: ``verify_chain`` alone cannot tell. What it cannot forge is a head that
# someone outside wrote down earlier (the oversight dashboard shows it; the oversight
# unit gets it by e-mail each day): a later chain must still contain that event with
# that hash. Not covered: changes made before the first head was written down, and an
# attacker who also controls every copy of the written-down heads.

_HEX = frozenset("0123456789abcdef")


class HeadFormatError(ValueError):
    """Not a head as ``audit head`` prints it: ``SEQ HASH``."""


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str
    created_at: datetime | None  # None for the empty log (the genesis)

    def line(self) -> str:
        return f"{self.seq} {self.hash}"


def head(session: Session) -> Head:
    """The newest event's sequence number, hash and time (the genesis if there is none)."""
    row = session.execute(
        select(AuditEvent.seq, AuditEvent.hash, AuditEvent.created_at)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    ).first()
    if row is None:
        return Head(0, GENESIS_HASH, None)
    return Head(row[0], row[1], row[2])


def parse_head(text: str) -> tuple[int, str]:
    parts = (text or "").split()
    if (
        len(parts) != 2
        or not (parts[0].isascii() and parts[0].isdigit() and len(parts[0]) <= 18)
        or len(parts[1]) != 64
        or not set(parts[1]) <= _HEX
    ):
        raise HeadFormatError('a head is "SEQ HASH": a number and 64 lowercase hex digits')
    return int(parts[0]), parts[1]


@dataclass(frozen=True)
class HeadCheck:
    checked: int
    problem: str | None  # None: the chain verifies and still contains the head

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_head(session: Session, seq: int, expected_hash: str) -> HeadCheck:
    """Verify the whole chain, then that it still holds event ``seq`` with hash
    ``expected_hash`` (later events may follow)."""
    checked, broken = verify_chain(session)
    if broken is not None:
        return HeadCheck(checked, f"the chain is broken at event {broken.seq}: {broken.reason}")
    if seq == 0:
        if expected_hash != GENESIS_HASH:
            return HeadCheck(checked, "head 0 is the genesis, whose hash is all zeros")
        return HeadCheck(checked, None)
    found = session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seq))
    if found is None:
        return HeadCheck(
            checked,
            f"the log ends at event {checked}, before the written-down head {seq}: "
            "newest events were cut off",
        )
    if found != expected_hash:
        return HeadCheck(
            checked,
            f"event {seq} now has hash {found}, not the written-down {expected_hash}: "
            "the log was rewritten (and rehashed) up to there",
        )
    return HeadCheck(checked, None)
