"""Referral of a case to the investigation agency (chuyển cơ quan điều tra), and what the
agency decided.

Routing a case to an investigation unit is a referral: which agency received it
(config/referral_agencies.toml), the dispatch's number and day (số công văn, ngày), and
later the day the procuracy (Viện kiểm sát) was notified. The agency must verify the
crime report and decide within the period of Bộ luật Tố tụng hình sự 2015 art. 147:

- 147(1): 20 days from receipt, to prosecute (khởi tố vụ án), not prosecute (không
  khởi tố) or suspend the handling of the source (tạm đình chỉ, art. 148);
- 147(2): complex, or verified at several places: up to 2 months; and if still not
  done, the head of the procuracy may extend it once, by up to 2 more months.
  The 2021 amendment (Law 02/2021/QH15) changed arts. 146 and 148, not this
  (docs/legal.md §8; art. 147 re-read on luatminhkhue.vn, November 2026).

These are CALENDAR days and months, counted by BLTTHS art. 134 (not working days, and
not the Civil Code: app.cases.legal_periods.verification_due). The office does not know
the day the agency received the dispatch; the dispatch day is the earliest it can be,
so the due day shown is the earliest the law allows - an inspector chasing the agency
is never late because of it. An extension records the new last day, which may not go
beyond 2 + 2 months from the dispatch day.

The investigation unit (the holder once routed) records the result with its day;
"returned" (trả lại cho thanh tra) routes the case back to an inspection unit, by the
ordinary routing rules (app.cases.actions.return_to_inspection). A case may be referred
again later: its current referral is the latest by dispatch day, then id.

Who may act: :func:`app.cases.access.require_case_handler`. Each action is audited; the
audit details carry the agency code and days, never content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session, aliased

from app import audit
from app.cases import legal_periods
from app.cases.access import Actor, require_case_handler
from app.cases.deadlines import DeadlineState, referral_deadline
from app.cases.legal_process import work_calendar
from app.cases.referral_agencies import SHIPPED_AGENCIES, Agency, find_agency
from app.models import Case, Referral, Unit
from app.models.vocabulary import CaseStatus, ReferralResult, UnitKind

MAX_DISPATCH_NUMBER = 40  # Referral.dispatch_number
# What the agency decides itself; RETURNED is recorded by return_to_inspection.
DECISIONS = (ReferralResult.PROSECUTED, ReferralResult.NOT_PROSECUTED, ReferralResult.SUSPENDED)


class ReferralError(ValueError):
    """A referral action the input or the case's state does not allow; nothing was
    changed. ``code`` picks the view's message; ``day`` is a day it may name."""

    def __init__(self, code: str, day: date | None = None) -> None:
        super().__init__(f"{code} {day.isoformat()}" if day else code)
        self.code = code
        self.day = day


@cache
def criminal_report_periods() -> legal_periods.CriminalReportPeriods:
    """The periods of config/legal_periods.toml [criminal_report], cited there."""
    return legal_periods.load_legal_periods().criminal_report


def verification_due(dispatched: date) -> date:
    """Art. 147(1): the 20th day after the dispatch (the day itself not counted; a
    period in days ends on its last day, rest day or not, art. 134)."""
    return legal_periods.verification_due(
        dispatched, work_calendar(), criminal_report_periods(), stage=0
    )


def latest_allowed_due(dispatched: date) -> date:
    """Art. 147(2): at most 2 months, extended once by at most 2 more months, from the
    dispatch (a period in months, moved off a rest day, art. 134)."""
    return legal_periods.verification_due(
        dispatched, work_calendar(), criminal_report_periods(), stage=2
    )


@dataclass(frozen=True)
class ReferralDetails:
    """What the routing form says of the referral (parsed by the view)."""

    agency: str
    dispatch_number: str
    dispatch_day: date | None
    procuracy_notified_day: date | None = None


def _day(value: date | None, today: date, *, not_before: date | None = None) -> date:
    if value is None:
        raise ReferralError("day_required")
    if value > today:
        raise ReferralError("day_in_future", value)
    if not_before is not None and value < not_before:
        raise ReferralError("day_before_dispatch", not_before)
    return value


def check_details(details: ReferralDetails, today: date, agencies_file: Path | None) -> Agency:
    """Refuse a referral that names no listed, active agency, no dispatch number or
    day, or days in the future or out of order."""
    agency = find_agency(details.agency.strip(), agencies_file or SHIPPED_AGENCIES)
    if agency is None or not agency.active:
        raise ReferralError("unknown_agency")
    number = details.dispatch_number.strip()
    if not number:
        raise ReferralError("dispatch_number_required")
    if len(number) > MAX_DISPATCH_NUMBER:
        raise ReferralError("dispatch_number_too_long")
    dispatched = _day(details.dispatch_day, today)
    if details.procuracy_notified_day is not None:
        _day(details.procuracy_notified_day, today, not_before=dispatched)
    return agency


def is_investigation_unit(session: Session, unit_slug: str) -> bool:
    kind = session.scalar(select(Unit.kind).where(Unit.slug == unit_slug))
    return kind == UnitKind.INVESTIGATION.value


def current_referral(session: Session, case_id: str) -> Referral | None:
    """The case's current referral: the latest by dispatch day, then id."""
    return session.scalar(
        select(Referral)
        .where(Referral.case_id == case_id)
        .order_by(Referral.dispatch_day.desc(), Referral.id.desc())
        .limit(1)
    )


def current_referral_clause() -> ColumnElement[bool]:
    """SQL on ``Referral``: this row is its case's current referral (no other of the
    case is later by dispatch day, then id) - :func:`current_referral` for many cases at
    once (the dashboard, the inbox of a unit)."""
    later = aliased(Referral)
    return ~exists().where(
        later.case_id == Referral.case_id,
        or_(
            later.dispatch_day > Referral.dispatch_day,
            and_(later.dispatch_day == Referral.dispatch_day, later.id > Referral.id),
        ),
    )


def referrals_of(session: Session, case_id: str) -> list[Referral]:
    """Every referral of the case, oldest first."""
    return list(
        session.scalars(
            select(Referral)
            .where(Referral.case_id == case_id)
            .order_by(Referral.dispatch_day, Referral.id)
        )
    )


def require_no_open_referral(session: Session, case: Case) -> None:
    """A case whose current referral awaits the agency's result stays with the
    investigation unit: it leaves only by that result (a return, or a decision and then
    an ordinary routing), so that no referral is left without an answer."""
    referral = current_referral(session, case.id)
    if referral is not None and referral.result is None:
        raise ReferralError("open_referral")


def record_referral(
    session: Session,
    actor: Actor,
    case: Case,
    details: ReferralDetails,
    today: date,
    *,
    agencies_file: Path | None = None,
) -> Referral:
    """Record the referral of a case just routed to an investigation unit (the caller,
    app.cases.actions.route_with_reason, routed it in the same unit of work)."""
    agency = check_details(details, today, agencies_file)
    assert details.dispatch_day is not None  # checked above
    referral = Referral(
        case_id=case.id,
        agency=agency.code,
        dispatch_number=details.dispatch_number.strip(),
        dispatch_day=details.dispatch_day,
        procuracy_notified_day=details.procuracy_notified_day,
        verification_due_day=verification_due(details.dispatch_day),
    )
    session.add(referral)
    session.flush()
    audit.record(
        session,
        actor=actor.label,
        action="referral.sent",
        case_id=case.id,
        details={
            "referral": referral.id,
            "agency": agency.code,
            "dispatch_day": details.dispatch_day.isoformat(),
            "due": referral.verification_due_day.isoformat(),
        },
    )
    return referral


def _open_referral(session: Session, actor: Actor, case: Case) -> Referral:
    require_case_handler(session, actor, case)
    referral = current_referral(session, case.id)
    if referral is None:
        raise ReferralError("no_referral")
    return referral


def record_procuracy_notice(
    session: Session, actor: Actor, case: Case, day: date | None, today: date
) -> Referral:
    """The day the procuracy was notified of the referral; recorded once, possibly long
    after the dispatch (and after the agency's result)."""
    referral = _open_referral(session, actor, case)
    if referral.procuracy_notified_day is not None:
        raise ReferralError("procuracy_already_recorded", referral.procuracy_notified_day)
    referral.procuracy_notified_day = _day(day, today, not_before=referral.dispatch_day)
    audit.record(
        session,
        actor=actor.label,
        action="referral.procuracy_notified",
        case_id=case.id,
        details={"referral": referral.id, "day": referral.procuracy_notified_day.isoformat()},
    )
    return referral


def extend(session: Session, actor: Actor, case: Case, until: date | None) -> Referral:
    """The agency's period was extended (art. 147(2)) until ``until``: later than the
    current last day, never later than the law allows."""
    referral = _open_referral(session, actor, case)
    if referral.result is not None:
        raise ReferralError("result_recorded")
    if case.status == CaseStatus.CLOSED.value:
        raise ReferralError("closed")
    if until is None:
        raise ReferralError("day_required")
    current = referral.extended_due_day or referral.verification_due_day
    if until <= current:
        raise ReferralError("extension_not_later", current)
    cap = latest_allowed_due(referral.dispatch_day)
    if until > cap:
        raise ReferralError("extension_beyond_law", cap)
    previous = referral.extended_due_day
    referral.extended_due_day = until
    audit.record(
        session,
        actor=actor.label,
        action="referral.extended",
        case_id=case.id,
        details={
            "referral": referral.id,
            "from": (previous or referral.verification_due_day).isoformat(),
            "to": until.isoformat(),
        },
    )
    return referral


def record_result(
    session: Session,
    actor: Actor,
    case: Case,
    result: str,
    day: date | None,
    today: date,
) -> Referral:
    """The agency's decision (art. 147(1)): prosecuted, not prosecuted or suspended,
    with its day. Recorded once. A return to the inspection is
    :func:`app.cases.actions.return_to_inspection`, which also routes the case."""
    if result not in {r.value for r in DECISIONS}:
        raise ReferralError("result_required")
    return _record(session, actor, case, result, day, today)


def record_return(
    session: Session, actor: Actor, case: Case, day: date | None, today: date
) -> Referral:
    """The "returned" result; only for app.cases.actions.return_to_inspection, which
    routes the case back to an inspection unit in the same unit of work."""
    return _record(session, actor, case, ReferralResult.RETURNED.value, day, today)


def _record(
    session: Session, actor: Actor, case: Case, result: str, day: date | None, today: date
) -> Referral:
    referral = _open_referral(session, actor, case)
    if referral.result is not None:
        raise ReferralError("result_recorded")
    referral.result = result
    referral.result_day = _day(day, today, not_before=referral.dispatch_day)
    audit.record(
        session,
        actor=actor.label,
        action="referral.result_recorded",
        case_id=case.id,
        details={
            "referral": referral.id,
            "result": result,
            "day": referral.result_day.isoformat(),
        },
    )
    return referral


@dataclass(frozen=True)
class ReferralState:
    """The current referral as the case page, the inbox and the dashboard show it."""

    referral: Referral
    state: DeadlineState
    due: date
    latest_allowed: date  # the furthest an extension may go (art. 147(2))

    @property
    def overdue(self) -> bool:
        return self.state is DeadlineState.OVERDUE


def referral_state(session: Session, case: Case, today: date) -> ReferralState | None:
    """The case's current referral and whether it is overdue (the single rule of
    app.cases.deadlines), or None if it was never referred."""
    referral = current_referral(session, case.id)
    if referral is None:
        return None
    state, due = referral_deadline(referral, case, today)
    return ReferralState(referral, state, due, latest_allowed_due(referral.dispatch_day))
