"""The inbox: cases the reviewer may read, filtered, sorted, one page at a time.

A few queries per page: the page of cases (using the ``ix_cases_inbox`` index on
holding unit, status and day) and, for those ids only, the unread reporter messages, the
referrals to the investigation agency and the overdue protection requests. The total is
counted with the same conditions.
Nothing here decrypts: the summaries and the text search (app.cases.inbox_reading)
decrypt in the reviewer's request, over the cases this module selects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, false, func, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from app.cases.access import READER_ROLES, Actor, readable_by
from app.cases.deadlines import (
    DeadlineState,
    case_deadline,
    overdue_clause,
    protection_missed_clause,
    referral_deadline,
    referral_overdue_clause,
)
from app.cases.legal_process import StatutoryState, open_named_states, statutory_state
from app.cases.referrals import current_referral_clause
from app.models import Case, Membership, Message, ProtectionRequest, Referral, Reviewer, Unit
from app.models.vocabulary import CaseStatus, Category, Sector, Side, Track

PAGE_SIZE = 50
# A reference typed in the search box is a column lookup, not a text search.
REFERENCE = re.compile(r"^CT-(\d{4})-(\d{1,6})$", re.IGNORECASE)


class InboxSort(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    PRIORITY = "priority"
    DEADLINE = "deadline"


@dataclass(frozen=True)
class InboxFilters:
    status: str | None = None
    category: str | None = None
    sector: str | None = None
    assignee: str | None = None  # "me", "none", or a reviewer id as text
    unit: int | None = None  # a holding unit (only the actor's own ever match)
    track: str | None = None
    received_from: date | None = None
    received_to: date | None = None
    overdue: bool = False
    sort: InboxSort = InboxSort.NEWEST
    page: int = 1

    @classmethod
    def parse(cls, args: dict[str, str]) -> InboxFilters:
        """From query parameters; anything unknown is ignored rather than an error."""

        def pick(name: str, allowed: set[str]) -> str | None:
            value = args.get(name) or None
            return value if value in allowed else None

        try:
            page = max(1, min(int(args.get("page", "1")), 100000))
        except ValueError:
            page = 1
        assignee = args.get("assignee") or None
        if assignee not in (None, "me", "none") and not (assignee or "").isdigit():
            assignee = None
        sort_value = args.get("sort", InboxSort.NEWEST.value)
        unit = args.get("unit", "")
        return cls(
            status=pick("status", {s.value for s in CaseStatus}),
            category=pick("category", {c.value for c in Category}),
            sector=pick("sector", {s.value for s in Sector}),
            assignee=assignee,
            unit=int(unit) if unit.isdigit() and len(unit) < 10 else None,
            track=pick("track", {t.value for t in Track}),
            received_from=_day(args.get("from", "")),
            received_to=_day(args.get("to", "")),
            overdue=args.get("overdue") in ("1", "on", "true"),
            sort=InboxSort(sort_value)
            if sort_value in InboxSort._value2member_map_
            else InboxSort.NEWEST,
            page=page,
        )

    def query(self) -> dict[str, str]:
        """The filters as query parameters (the pager, the search form's redirect)."""
        values = {
            "status": self.status,
            "category": self.category,
            "sector": self.sector,
            "assignee": self.assignee,
            "unit": str(self.unit) if self.unit is not None else None,
            "track": self.track,
            "from": self.received_from.isoformat() if self.received_from else None,
            "to": self.received_to.isoformat() if self.received_to else None,
            "overdue": "1" if self.overdue else None,
            "sort": self.sort.value if self.sort is not InboxSort.NEWEST else None,
        }
        return {key: value for key, value in values.items() if value}


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def reference_of(text: str) -> str | None:
    """``CT-2026-42`` or ``ct-2026-00042`` as the reference it names, else None."""
    match = REFERENCE.match(text.strip())
    return f"CT-{match.group(1)}-{int(match.group(2)):05d}" if match else None


@dataclass(frozen=True)
class InboxRow:
    id: str
    reference: str
    category: str
    sector: str
    status: str
    priority: str
    created_day: date
    age_days: int
    deadline: DeadlineState
    next_due: date | None
    unread: int
    assignee: str | None
    # A named denunciation's statutory clocks (app.cases.legal_process); None for
    # anonymous information, which has only the city's own targets (``deadline``).
    statutory: StatutoryState | None = None
    track: str = Track.ANONYMOUS.value
    unit: str = ""  # the holding unit's name in the reader's language
    # The current referral's verification period while the agency owes its result
    # (app.cases.deadlines.referral_deadline); None otherwise.
    referral: tuple[DeadlineState, date] | None = None
    # An unanswered protection request of the case is past its due day.
    protection_overdue: bool = False


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    total: int
    page: int
    pages: int


def _conditions(
    session: Session,
    actor: Actor,
    filters: InboxFilters,
    today: date,
    only_ids: list[str] | None,
    reference: str | None,
) -> list[ColumnElement[bool]]:
    conditions = [readable_by(actor)]
    if only_ids is not None:
        conditions.append(Case.id.in_(only_ids))
    if reference is not None:
        conditions.append(Case.reference == reference)
    if filters.unit is not None:
        conditions.append(Case.holding_unit_id == filters.unit)
    if filters.track:
        conditions.append(Case.track == filters.track)
    if filters.received_from:
        conditions.append(Case.created_day >= filters.received_from)
    if filters.received_to:
        conditions.append(Case.created_day <= filters.received_to)
    if filters.status:
        conditions.append(Case.status == filters.status)
    if filters.category:
        conditions.append(Case.category == filters.category)
    if filters.sector:
        conditions.append(Case.sector == filters.sector)
    if filters.assignee == "me":
        conditions.append(Case.assignee_id == actor.reviewer_id)
    elif filters.assignee == "none":
        conditions.append(Case.assignee_id.is_(None))
    elif filters.assignee:
        conditions.append(Case.assignee_id == int(filters.assignee))
    if filters.overdue:
        conditions.append(_anything_overdue(session, today, conditions))
    return conditions


def _anything_overdue(
    session: Session, today: date, conditions: list[ColumnElement[bool]]
) -> ColumnElement[bool]:
    """ "Overdue only": the case missed anything it owes - a service target of the city,
    a statutory step of a named denunciation, the current referral's verification
    period, or the answer to a protection request. Every rule is app.cases.deadlines'
    (composed here, never restated).

    The statutory due days come from the work calendar and are not stored, so SQL
    cannot judge them (as in the statistics' count): the open named cases that the
    other ``conditions`` already keep - the actor's readable cases, at most, so the
    preselection is bounded by what one reviewer may read - are judged in Python and
    the late ones enter the query by id."""
    statutory_late = [
        case_id
        for case_id, state in open_named_states(session, today, *conditions)
        if state.overdue
    ]
    referral_late = exists().where(
        Referral.case_id == Case.id,
        current_referral_clause(),
        referral_overdue_clause(today),
    )
    protection_late = exists().where(
        ProtectionRequest.case_id == Case.id, protection_missed_clause(today)
    )
    return or_(
        overdue_clause(today),
        Case.id.in_(statutory_late) if statutory_late else false(),
        referral_late,
        protection_late,
    )


_PRIORITY_ORDER = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


def _ordered(query: Select[Any], sort: InboxSort) -> Select[Any]:
    if sort is InboxSort.OLDEST:
        return query.order_by(Case.created_day.asc(), Case.ref_year, Case.ref_number)
    if sort is InboxSort.PRIORITY:
        rank = sql_case(_PRIORITY_ORDER, value=Case.priority, else_=9)
        return query.order_by(rank, Case.created_day.desc())
    if sort is InboxSort.DEADLINE:
        # NULLS LAST spelled out: SQLite puts NULL first and PostgreSQL last, so without
        # it cases with no decision due (closed ones) led the list on one backend only.
        return query.order_by(Case.decision_due.asc().nulls_last(), Case.created_day.asc())
    return query.order_by(Case.created_day.desc(), Case.ref_year.desc(), Case.ref_number.desc())


def matching_ids(
    session: Session, actor: Actor, filters: InboxFilters, today: date, limit: int
) -> tuple[list[str], int]:
    """The first ``limit`` ids of the filtered inbox in its order, and how many match in
    all: the cases a text search may decrypt (app.cases.inbox_reading)."""
    conditions = _conditions(session, actor, filters, today, None, None)
    total = int(session.scalar(select(func.count()).select_from(Case).where(*conditions)) or 0)
    ids = session.scalars(
        _ordered(select(Case.id).where(*conditions), filters.sort).limit(limit)
    ).all()
    return list(ids), total


def inbox_page(
    session: Session,
    actor: Actor,
    filters: InboxFilters,
    today: date,
    *,
    only_ids: list[str] | None = None,
    reference: str | None = None,
    language: str = "vi",
) -> InboxPage:
    """One page of the inbox; ``only_ids`` keeps the cases a text search found,
    ``reference`` the one case of that reference (both within the filters)."""
    conditions = _conditions(session, actor, filters, today, only_ids, reference)
    total = int(session.scalar(select(func.count()).select_from(Case).where(*conditions)) or 0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(filters.page, pages)
    cases = session.scalars(
        _ordered(select(Case).where(*conditions), filters.sort)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    ids = [c.id for c in cases]
    unread = (
        dict(
            session.execute(
                select(Message.case_id, func.count())
                .where(
                    Message.case_id.in_(ids),
                    Message.author_side == Side.REPORTER.value,
                    Message.read_at.is_(None),
                )
                .group_by(Message.case_id)
            ).all()
        )
        if ids
        else {}
    )
    assignee_ids = {c.assignee_id for c in cases if c.assignee_id}
    names = (
        dict(
            session.execute(
                select(Reviewer.id, Reviewer.username).where(Reviewer.id.in_(assignee_ids))
            ).all()
        )
        if assignee_ids
        else {}
    )
    unit_ids = {c.holding_unit_id for c in cases}
    units = (
        {
            unit.id: unit.name(language)
            for unit in session.scalars(select(Unit).where(Unit.id.in_(unit_ids)))
        }
        if unit_ids
        else {}
    )
    current: dict[str, Referral] = {}
    if ids:
        for referral in session.scalars(
            select(Referral)
            .where(Referral.case_id.in_(ids))
            .order_by(Referral.dispatch_day, Referral.id)
        ):
            current[referral.case_id] = referral  # the latest wins: the current one
    protection_late = (
        set(
            session.scalars(
                select(ProtectionRequest.case_id).where(
                    ProtectionRequest.case_id.in_(ids), protection_missed_clause(today)
                )
            )
        )
        if ids
        else set()
    )
    rows = []
    for c in cases:
        state, due = case_deadline(c, today)
        owed = current.get(c.id)
        statutory = statutory_state(c, today)
        agency_due = (
            referral_deadline(owed, c, today) if owed is not None and owed.result is None else None
        )
        if (
            (statutory is not None and statutory.overdue)
            or (agency_due is not None and agency_due[0] is DeadlineState.OVERDUE)
            or c.id in protection_late
        ):
            # The badge says "overdue" whatever clock is missed, as the filter selects.
            state = DeadlineState.OVERDUE
        rows.append(
            InboxRow(
                id=c.id,
                reference=c.reference,
                category=c.category,
                sector=c.sector,
                status=c.status,
                priority=c.priority,
                created_day=c.created_day,
                age_days=(today - c.created_day).days,
                deadline=state,
                next_due=due,
                unread=int(unread.get(c.id, 0)),
                assignee=names.get(c.assignee_id) if c.assignee_id else None,
                statutory=statutory,
                track=c.track,
                unit=units.get(c.holding_unit_id, ""),
                referral=agency_due,
                protection_overdue=c.id in protection_late,
            )
        )
    return InboxPage(rows, total, page, pages)


def actor_units(session: Session, actor: Actor) -> list[Unit]:
    """The units whose cases the actor may see: the choices of the unit filter."""
    if not actor.unit_ids:
        return []
    return list(session.scalars(select(Unit).where(Unit.id.in_(actor.unit_ids)).order_by(Unit.id)))


def assignable_colleagues(session: Session, actor: Actor) -> list[Reviewer]:
    """Who the bulk "assign" form offers: active readers in the actor's units. Each
    assignment is still checked per case by :func:`app.cases.workflow.assign` (a
    colleague who recused, or whose unit the reporter excluded, is refused there)."""
    if not actor.reads_cases or not actor.unit_ids:
        return []
    members = select(Membership.reviewer_id).where(Membership.unit_id.in_(actor.unit_ids))
    return list(
        session.scalars(
            select(Reviewer)
            .where(
                Reviewer.id.in_(members),
                Reviewer.active.is_(True),
                Reviewer.role.in_([role.value for role in READER_ROLES]),
            )
            .order_by(Reviewer.username)
        )
    )
