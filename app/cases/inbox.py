"""The inbox: cases the reviewer may read, filtered, sorted, one page at a time.

Two queries per page: the page of cases (using the ``ix_cases_inbox`` index on holding
unit, status and day) and, for those ids only, the unread reporter messages and the
referrals to the investigation agency. The total
is counted with the same conditions. Nothing here decrypts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from app.cases.access import Actor, readable_by
from app.cases.deadlines import DeadlineState, case_deadline, overdue_clause, referral_deadline
from app.cases.legal_process import StatutoryState, statutory_state
from app.models import Case, Message, Referral, Reviewer
from app.models.vocabulary import CaseStatus, Category, Sector, Side

PAGE_SIZE = 50


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
        return cls(
            status=pick("status", {s.value for s in CaseStatus}),
            category=pick("category", {c.value for c in Category}),
            sector=pick("sector", {s.value for s in Sector}),
            assignee=assignee,
            overdue=args.get("overdue") in ("1", "on", "true"),
            sort=InboxSort(sort_value)
            if sort_value in InboxSort._value2member_map_
            else InboxSort.NEWEST,
            page=page,
        )


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
    # The current referral's verification period while the agency owes its result
    # (app.cases.deadlines.referral_deadline); None otherwise.
    referral: tuple[DeadlineState, date] | None = None


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    total: int
    page: int
    pages: int


def _conditions(actor: Actor, filters: InboxFilters, today: date) -> list[ColumnElement[bool]]:
    conditions = [readable_by(actor)]
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
        conditions.append(overdue_clause(today))
    return conditions


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


def inbox_page(session: Session, actor: Actor, filters: InboxFilters, today: date) -> InboxPage:
    conditions = _conditions(actor, filters, today)
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
    current: dict[str, Referral] = {}
    if ids:
        for referral in session.scalars(
            select(Referral)
            .where(Referral.case_id.in_(ids))
            .order_by(Referral.dispatch_day, Referral.id)
        ):
            current[referral.case_id] = referral  # the latest wins: the current one
    rows = []
    for c in cases:
        state, due = case_deadline(c, today)
        owed = current.get(c.id)
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
                statutory=statutory_state(c, today),
                referral=referral_deadline(owed, c, today)
                if owed is not None and owed.result is None
                else None,
            )
        )
    return InboxPage(rows, total, page, pages)
