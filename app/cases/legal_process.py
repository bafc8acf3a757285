"""The statutory process of a named denunciation (Luật Tố cáo 2018, docs/legal.md §2-§3):
the decision after the initial handling - accept (thụ lý), refuse, transfer - the
extensions of the resolution period and the conclusion, each with the formal notice the
Law requires.

Each action, in one unit of work the caller commits:

1. checks the case and the input (whole or nothing: a refusal changes nothing);
2. changes the case's statutory state and records an audit event (codes only: no
   reason, authority or content - those are the inspector's words and stay encrypted);
3. builds the ``Notice`` from the case (the holding unit's name, the days from
   :mod:`app.cases.legal_periods`) and the inspector's input;
4. stores the notice's fields as JSON encrypted to the staff key (``CaseNotice``): the
   office's DOCX is rendered again from them on demand, so no document sits at rest;
5. renders the reporter's PDF and delivers it into the thread as a staff message with
   the PDF attached, encrypted to the case key like every file.

Order (art. 24, 29, 30, 35): one decision - accepted, refused or transferred - and
only once; the conclusion once, after an acceptance; extensions only after an
acceptance and before the conclusion, at most one for a complex case and two for an
especially complex one (Decree 31/2019 art. 3(2)-(3): one criterion met is complex, two
or more especially complex). A decision after its statutory day is allowed (the office
may be late) and the case shows it overdue; a day in the future or before the receipt is
refused.

Anonymous information (art. 25) has none of this: :func:`send_information_notice` is its
system notice, not a legal act.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app import audit, clock
from app.cases import legal_periods
from app.cases.access import Actor, require_reader
from app.cases.blobs import decrypt_blob, discard_all
from app.cases.deadlines import statutory_missed
from app.cases.legal_periods import (
    DenunciationPeriods,
    LegalPeriodError,
    LegalPeriods,
    ProtectionPeriods,
)
from app.cases.messages import add_message_from_server
from app.cases.notices import Notice, NoticeKind, render_docx, render_pdf
from app.cases.notices.model import checked
from app.cases.payloads import AttachmentMeta
from app.cases.unit_of_work import stage_blobs
from app.cases.workdays import (
    SHIPPED_OVERRIDES,
    CalendarFileError,
    WorkCalendar,
    load_overrides,
)
from app.models import Blob, Case, CaseNotice, Unit
from app.models.vocabulary import BlobKind, CaseStatus, Side, StatutoryDecision, Track
from app.storage import BlobStore, PendingBlob
from crypto import AgeWriter, Identity, Recipient

# The city the notices are dated in ("Cần Thơ, ngày 05 tháng 02 năm 2027").
NOTICE_PLACE = "Cần Thơ"
MAX_NOTICE_BYTES = 2 * 1024 * 1024
MAX_DECISION_NUMBER = 40

# Decree 31/2019/NĐ-CP art. 3(2): the criteria of a complex case (one met: complex; two
# or more: especially complex, art. 3(3)). Keys are the form's values; the Vietnamese
# text goes into the extension decision (Mẫu 01) as the reason for the complexity.
COMPLEXITY_CRITERIA: dict[str, str] = {
    "several_places": "phải xác minh ở từ hai địa điểm trở lên",
    "several_contents": "có từ hai nội dung trở lên cần xác minh",
    "many_people": "có nhiều người tố cáo hoặc liên quan đến quyền, lợi ích của nhiều người",
    "foreign_element": "có yếu tố nước ngoài",
    "several_agencies": "liên quan đến trách nhiệm quản lý của nhiều cơ quan, tổ chức",
    "agencies_disagree": "các cơ quan, tổ chức có liên quan còn có ý kiến khác nhau",
    "contradictory_evidence": "tài liệu, chứng cứ mâu thuẫn, cần thời gian thu thập hoặc giám định",
}

PDF_NAMES = {
    NoticeKind.ACCEPT: "thong-bao-thu-ly-to-cao.pdf",
    NoticeKind.REFUSE: "thong-bao-khong-thu-ly-to-cao.pdf",
    NoticeKind.TRANSFER: "thong-bao-chuyen-don-to-cao.pdf",
    NoticeKind.EXTEND: "quyet-dinh-gia-han-giai-quyet-to-cao.pdf",
    NoticeKind.CONCLUDE: "thong-bao-ket-luan-noi-dung-to-cao.pdf",
    NoticeKind.INFORMATION: "thong-bao-tiep-nhan-thong-tin.pdf",
}

# The message that carries the PDF into the thread. Vietnamese, the language of the act
# (docs/notices.md); the reporter's interface also says what it is in their language.
_MESSAGE_TEXT = {
    NoticeKind.ACCEPT: "Thông báo việc thụ lý tố cáo (văn bản kèm theo).",
    NoticeKind.REFUSE: "Thông báo việc không thụ lý tố cáo (văn bản kèm theo).",
    NoticeKind.TRANSFER: "Thông báo việc chuyển đơn tố cáo (văn bản kèm theo).",
    NoticeKind.EXTEND: "Quyết định gia hạn giải quyết tố cáo (văn bản kèm theo).",
    NoticeKind.CONCLUDE: "Thông báo về kết luận nội dung tố cáo (văn bản kèm theo).",
    NoticeKind.INFORMATION: "Thông báo của hệ thống: thông tin đã được tiếp nhận, xem xét "
    "theo thẩm quyền (văn bản kèm theo).",
}


class StatutoryError(ValueError):
    """An action the case's state or the input does not allow; nothing was changed.
    ``code`` picks the message the view shows (vi and en)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code


@dataclass(frozen=True)
class LegalFiles:
    """The installation's working-day calendar and statutory periods, read from its
    files (settings ``LIEMCHINH_HOLIDAYS_FILE``, ``LIEMCHINH_LEGAL_PERIODS_FILE``)."""

    calendar: WorkCalendar
    periods: LegalPeriods


class LegalFilesError(ValueError):
    """A calendar or periods file that cannot be used: the message names the setting,
    the file and what is wrong (the app refuses to start)."""


_in_use: LegalFiles | None = None


def load_legal_files(holidays_file: Path | None, periods_file: Path | None) -> LegalFiles:
    """Read both files (None: no overrides / the statutory values). Raises
    :class:`LegalFilesError`."""
    try:
        overrides = load_overrides(holidays_file)
    except CalendarFileError as exc:
        raise LegalFilesError(f"LIEMCHINH_HOLIDAYS_FILE: {exc}") from None
    try:
        periods = legal_periods.load_legal_periods(periods_file)
    except LegalPeriodError as exc:
        raise LegalFilesError(f"LIEMCHINH_LEGAL_PERIODS_FILE: {exc.en}") from None
    return LegalFiles(WorkCalendar(overrides), periods)


def use_legal_files(holidays_file: Path | None, periods_file: Path | None) -> LegalFiles:
    """Read the installation's files and count every clock of this process with them
    (like app.clock.use_zone: one installation per process). Called when an app is
    created; a bad file stops it there, not at the first deadline."""
    global _in_use
    _in_use = load_legal_files(holidays_file, periods_file)
    return _in_use


def _legal_files() -> LegalFiles:
    if _in_use is None:  # a domain call outside an app (a script, a test): the shipped files
        return use_legal_files(SHIPPED_OVERRIDES, legal_periods.SHIPPED_PERIODS)
    return _in_use


def work_calendar() -> WorkCalendar:
    """Vietnam's working days with the installation's overrides (config/holidays.toml
    unless ``LIEMCHINH_HOLIDAYS_FILE`` names another file)."""
    return _legal_files().calendar


def denunciation_periods() -> DenunciationPeriods:
    """The periods of the installation's periods file, with their citations there."""
    return _legal_files().periods.denunciation


def protection_periods() -> ProtectionPeriods:
    """The protection-request periods of the periods file ([protection])."""
    return _legal_files().periods.protection


@dataclass(frozen=True)
class StatutoryState:
    """What the case page, the inbox and the reporter's page show of the process."""

    decision: StatutoryDecision | None
    decision_day: date | None
    acceptance_due: date
    resolution_due: date | None
    extensions: int
    extensions_left: int
    acceptance_overdue: bool  # no decision and the last day has passed
    resolution_overdue: bool  # accepted, not concluded, open, and the last day has passed
    concluded_day: date | None = None
    conclusion_notice_due: date | None = None  # art. 35(3): 5 working days

    @property
    def overdue(self) -> bool:
        """A statutory step of the case is missed (acceptance or resolution)."""
        return self.acceptance_overdue or self.resolution_overdue


def statutory_state(case: Case, today: date) -> StatutoryState | None:
    """The clocks of a named denunciation as of ``today``; None for anonymous
    information (art. 25: no statutory clock)."""
    if case.track != Track.NAMED.value:
        return None
    periods = denunciation_periods()
    decision = StatutoryDecision(case.statutory_decision) if case.statutory_decision else None
    accepted = case.statutory_decision_day if decision is StatutoryDecision.ACCEPTED else None
    concluded = case.statutory_concluded_day if accepted else None
    clocks = legal_periods.statutory_clocks(
        Track.NAMED,
        case.created_day,
        work_calendar(),
        periods,
        accepted=accepted,
        extensions=case.statutory_extensions if accepted else 0,
        concluded=concluded,
    )
    assert clocks is not None  # a named denunciation always has its clocks
    return StatutoryState(
        decision=decision,
        decision_day=case.statutory_decision_day,
        acceptance_due=clocks.acceptance,
        resolution_due=clocks.resolution,
        extensions=case.statutory_extensions,
        extensions_left=0
        if concluded
        else max(0, periods.max_extensions - case.statutory_extensions),
        acceptance_overdue=statutory_missed(
            clocks.acceptance, decision is not None, case.status, today
        ),
        resolution_overdue=statutory_missed(
            clocks.resolution, concluded is not None, case.status, today
        ),
        concluded_day=concluded,
        conclusion_notice_due=clocks.conclusion_notice,
    )


# The columns the statutory clocks are computed from: what the statistics and the
# inbox's "overdue only" filter load of each open named case (never the keys, the receipt
# lookup or anything else of the row).
_CLOCK_COLUMNS = (
    Case.track,
    Case.status,
    Case.created_day,
    Case.statutory_decision,
    Case.statutory_decision_day,
    Case.statutory_extensions,
    Case.statutory_concluded_day,
)


def open_named_states(
    session: Session, today: date, *conditions: ColumnElement[bool]
) -> Iterator[tuple[str, StatutoryState]]:
    """Each open named denunciation matching ``conditions``, by id, with its clocks as of
    ``today``. The due days come from the work calendar (holidays, announced days off)
    and are not stored - a stored day would go stale when the calendar file gains a day -
    so SQL cannot judge them: the clock columns are loaded, one row per case, into a
    transient Case and judged by :func:`statutory_state` (whose overdue rule is
    app.cases.deadlines.statutory_missed). Nothing is decrypted."""
    for row in session.execute(
        select(Case.id, *_CLOCK_COLUMNS).where(
            Case.track == Track.NAMED.value, Case.status != CaseStatus.CLOSED.value, *conditions
        )
    ).mappings():
        clocks = dict(row)
        case_id = clocks.pop("id")
        state = statutory_state(Case(**clocks), today)
        if state is not None:
            yield case_id, state


# --- the actions --------------------------------------------------------------------


def _require_named_and_open(session: Session, actor: Actor, case: Case) -> None:
    require_reader(session, actor, case)
    if case.track != Track.NAMED.value:
        # Art. 25: anonymous information is not handled as a denunciation.
        raise StatutoryError("not_named")
    if case.status == CaseStatus.CLOSED.value:
        raise StatutoryError("closed")


def _require_undecided(case: Case) -> None:
    if case.statutory_decision is not None:
        # Arts. 24 and 29: one decision after the initial handling, taken once.
        raise StatutoryError("already_decided")


def _text(value: str, code: str) -> str:
    text = value.replace("\r\n", "\n").strip()
    if not text:
        raise StatutoryError(code)
    return text


def _decision_day(case: Case, day: date | None, today: date) -> date:
    if day is None:
        raise StatutoryError("day_required")
    if day < case.created_day or day > today:
        raise StatutoryError("bad_day")
    return day


def _base_notice(session: Session, case: Case, kind: NoticeKind, today: date) -> dict[str, Any]:
    unit = session.get(Unit, case.holding_unit_id)
    assert unit is not None
    return {
        "kind": kind,
        "issuing_unit": unit.name_vi,
        # The register's code of the unit; the office corrects it on its DOCX when it
        # numbers and signs the act (docs/notices.md).
        "unit_code": unit.slug.upper(),
        "place": NOTICE_PLACE,
        "issued_on": today,
        "case_reference": case.reference,
        "received_on": case.created_day,
    }


def _record_decision(
    session: Session,
    actor: Actor,
    case: Case,
    decision: StatutoryDecision,
    day: date,
    action: str,
    **details: str,
) -> None:
    """The one decision on a named denunciation (accept, refuse or transfer), which also
    acknowledges the case, and its audit event."""
    case.statutory_decision = decision.value
    case.statutory_decision_day = day
    case.acknowledged_at = case.acknowledged_at or clock.utcnow()
    audit.record(
        session,
        actor=actor.label,
        action=action,
        case_id=case.id,
        details={"day": day.isoformat(), **details},
    )


def accept(
    session: Session,
    store: BlobStore,
    actor: Actor,
    case: Case,
    *,
    on: date | None,
    decision_number: str,
    content: str,
) -> CaseNotice:
    """Accept (thụ lý) the denunciation on day ``on`` by the decision ``decision_number``
    (Mẫu 04), for ``content``; notify the denouncer (Mẫu 05, art. 29(3))."""
    _require_named_and_open(session, actor, case)
    _require_undecided(case)
    today = clock.today()
    day = _decision_day(case, on, today)
    number = _text(decision_number, "decision_number_required")
    if len(number) > MAX_DECISION_NUMBER or "\n" in number:
        raise StatutoryError("bad_decision_number")
    due = legal_periods.resolution_due(day, 0, (), work_calendar(), denunciation_periods())
    notice = checked(
        Notice(
            **_base_notice(session, case, NoticeKind.ACCEPT, today),
            accepted_on=day,
            due_on=due,
            decision_reference=number,
            content=_text(content, "content_required"),
        )
    )
    case.acceptance_decision_number = notice.decision_reference
    _record_decision(
        session,
        actor,
        case,
        StatutoryDecision.ACCEPTED,
        day,
        "case.accepted",
        resolution_due=due.isoformat(),
    )
    return _issue(session, store, actor, case, notice)


def refuse(
    session: Session, store: BlobStore, actor: Actor, case: Case, *, reason: str
) -> CaseNotice:
    """Do not accept, and tell the denouncer the reasons at once (art. 24(1))."""
    _require_named_and_open(session, actor, case)
    _require_undecided(case)
    today = clock.today()
    notice = checked(
        Notice(
            **_base_notice(session, case, NoticeKind.REFUSE, today),
            reason=_text(reason, "reason_required"),
        )
    )
    _record_decision(
        session, actor, case, StatutoryDecision.REFUSED, today, "case.acceptance_refused"
    )
    return _issue(session, store, actor, case, notice)


def transfer(
    session: Session,
    store: BlobStore,
    actor: Actor,
    case: Case,
    *,
    authority: str,
    reason: str,
) -> CaseNotice:
    """Not within the unit's competence: transfer to ``authority`` and tell the
    denouncer (art. 24(2), within 5 working days of receipt). ``reason`` stays in the
    encrypted notice data for the file; the template says the legal ground."""
    _require_named_and_open(session, actor, case)
    _require_undecided(case)
    today = clock.today()
    notice = checked(
        Notice(
            **_base_notice(session, case, NoticeKind.TRANSFER, today),
            transferred_to=_text(authority, "authority_required"),
            reason=_text(reason, "reason_required"),
        )
    )
    _record_decision(session, actor, case, StatutoryDecision.TRANSFERRED, today, "case.transferred")
    return _issue(session, store, actor, case, notice)


def extend(
    session: Session,
    store: BlobStore,
    actor: Actor,
    case: Case,
    *,
    reason: str,
    criteria: list[str],
) -> CaseNotice:
    """Extend the resolution period by 30 days (art. 30(2)-(3)) for the complexity
    ``criteria`` met (keys of :data:`COMPLEXITY_CRITERIA`), and notify (art. 30(4),
    Mẫu 01)."""
    _require_named_and_open(session, actor, case)
    if case.statutory_decision != StatutoryDecision.ACCEPTED.value:
        raise StatutoryError("not_accepted")
    if case.statutory_concluded_day is not None:
        raise StatutoryError("already_concluded")
    assert case.statutory_decision_day is not None
    text = _text(reason, "reason_required")
    chosen = list(dict.fromkeys(criteria))
    if not chosen:
        raise StatutoryError("criteria_required")
    if any(key not in COMPLEXITY_CRITERIA for key in chosen):
        raise StatutoryError("criteria_required")
    periods = denunciation_periods()
    number = case.statutory_extensions + 1
    if number > periods.max_extensions:
        raise StatutoryError("extensions_exhausted")
    if number == 2 and len(chosen) < 2:
        # Art. 30(2)-(3): a second extension only for an especially complex case.
        raise StatutoryError("second_needs_especially_complex")
    today = clock.today()
    due = legal_periods.resolution_due(
        case.statutory_decision_day, number, (), work_calendar(), periods
    )
    notice = checked(
        Notice(
            **_base_notice(session, case, NoticeKind.EXTEND, today),
            accepted_on=case.statutory_decision_day,
            due_on=due,
            decision_reference=case.acceptance_decision_number or "",
            reason=text,
            extension_number=number,
            extension_days=periods.extension_days,
            complexity_criteria=tuple(COMPLEXITY_CRITERIA[key] for key in chosen),
        )
    )
    case.statutory_extensions = number
    audit.record(
        session,
        actor=actor.label,
        action="case.extended",
        case_id=case.id,
        details={"extension": str(number), "resolution_due": due.isoformat()},
    )
    return _issue(session, store, actor, case, notice)


def conclude(
    session: Session,
    store: BlobStore,
    actor: Actor,
    case: Case,
    *,
    on: date | None,
    conclusion_number: str,
    outcome: str,
) -> CaseNotice:
    """Record the conclusion (kết luận nội dung tố cáo, Mẫu 12) issued on ``on`` under
    ``conclusion_number``, and tell the denouncer what it found (art. 35(3), within 5
    working days of it). Once; the case stays open for the handling of the conclusion
    (art. 36), which the inspectors close when done."""
    _require_named_and_open(session, actor, case)
    if case.statutory_decision != StatutoryDecision.ACCEPTED.value:
        raise StatutoryError("not_accepted")
    if case.statutory_concluded_day is not None:
        raise StatutoryError("already_concluded")
    accepted = case.statutory_decision_day
    assert accepted is not None
    today = clock.today()
    day = _decision_day(case, on, today)
    if day < accepted:
        raise StatutoryError("bad_day")
    number = _text(conclusion_number, "conclusion_number_required")
    if len(number) > MAX_DECISION_NUMBER or "\n" in number:
        raise StatutoryError("bad_decision_number")
    notice = checked(
        Notice(
            **_base_notice(session, case, NoticeKind.CONCLUDE, today),
            accepted_on=accepted,
            concluded_on=day,
            decision_reference=number,
            outcome=_text(outcome, "outcome_required"),
        )
    )
    case.statutory_concluded_day = day
    audit.record(
        session,
        actor=actor.label,
        action="case.concluded",
        case_id=case.id,
        details={"day": day.isoformat()},
    )
    return _issue(session, store, actor, case, notice)


def send_information_notice(
    session: Session, store: BlobStore, actor: Actor, case: Case
) -> CaseNotice | None:
    """Anonymous information (art. 25): the system notice that it was received and is
    considered within competence. None for a named denunciation (it gets the legal
    notices above) or when the notice was already sent."""
    if case.track != Track.ANONYMOUS.value:
        return None
    sent = session.scalar(
        select(CaseNotice.id).where(
            CaseNotice.case_id == case.id, CaseNotice.kind == NoticeKind.INFORMATION.value
        )
    )
    if sent is not None:
        return None
    notice = checked(Notice(**_base_notice(session, case, NoticeKind.INFORMATION, clock.today())))
    return _issue(session, store, actor, case, notice)


# --- storing and delivering ---------------------------------------------------------


def notice_to_json(notice: Notice) -> bytes:
    values: dict[str, Any] = {}
    for item in fields(notice):
        value = getattr(notice, item.name)
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        values[item.name] = value
    return json.dumps(values, ensure_ascii=False).encode("utf-8")


def notice_from_json(data: bytes) -> Notice:
    values: dict[str, Any] = json.loads(data.decode("utf-8"))
    known = {item.name for item in fields(Notice)}
    for name in ("issued_on", "received_on", "accepted_on", "due_on", "concluded_on"):
        if values.get(name):
            values[name] = date.fromisoformat(values[name])
    values["kind"] = NoticeKind(values["kind"])
    values["complexity_criteria"] = tuple(values.get("complexity_criteria") or ())
    return checked(Notice(**{k: v for k, v in values.items() if k in known}))


def _encrypted(store: BlobStore, recipient: str, data: bytes) -> PendingBlob:
    pending = store.create(limit=MAX_NOTICE_BYTES)
    try:
        with AgeWriter(pending, [Recipient.parse(recipient)]) as writer:  # type: ignore[arg-type]
            writer.write(data)
    except BaseException:
        discard_all([pending])
        raise
    return pending


def _issue(
    session: Session, store: BlobStore, actor: Actor, case: Case, notice: Notice
) -> CaseNotice:
    """Store the notice's fields (staff key) and deliver the PDF (case key). Rendering
    comes first: a notice that cannot be rendered leaves no file and no row."""
    pdf = render_pdf(notice)
    session.flush()
    data = _encrypted(store, case.staff_recipient, notice_to_json(notice))
    try:
        session.add(
            Blob(
                id=data.blob_id,
                case_id=case.id,
                kind=BlobKind.NOTE.value,
                author_side=Side.REVIEWER.value,
                storage_key=data.storage_key,
                size=data.size,
            )
        )
        session.flush()
    except BaseException:
        session.rollback()
        discard_all([data])
        raise
    stage_blobs(session, [data])
    attachment = _encrypted(store, case.case_recipient, pdf)
    message = add_message_from_server(
        session,
        store,
        case=case,
        side=Side.REVIEWER,
        author_id=actor.reviewer_id,
        text=_MESSAGE_TEXT[notice.kind],
        attachments=[
            (attachment, AttachmentMeta(PDF_NAMES[notice.kind], "application/pdf", len(pdf)))
        ],
    )
    row = CaseNotice(
        case_id=case.id,
        kind=notice.kind.value,
        blob_id=data.blob_id,
        message_id=message.id,
        issued_day=notice.issued_on,
    )
    session.add(row)
    session.flush()
    return row


# --- reading back -------------------------------------------------------------------


def case_notices(session: Session, case_id: str) -> list[CaseNotice]:
    return list(
        session.scalars(
            select(CaseNotice).where(CaseNotice.case_id == case_id).order_by(CaseNotice.id)
        )
    )


def record_office_copy_download(
    session: Session, actor: Actor, case: Case, notice: CaseNotice
) -> None:
    """A DOCX of a notice is a decrypted copy leaving the system: audited."""
    audit.record(
        session,
        actor=actor.label,
        action="notice.downloaded",
        case_id=case.id,
        details={"kind": notice.kind},
    )


def office_copy(
    session: Session, store: BlobStore, case_id: str, notice_id: int, staff_identity: Identity
) -> tuple[CaseNotice, bytes]:
    """The office's DOCX of one notice, rendered from its decrypted fields. LookupError
    when the case has no such notice."""
    row = session.scalar(
        select(CaseNotice).where(CaseNotice.id == notice_id, CaseNotice.case_id == case_id)
    )
    if row is None:
        raise LookupError(notice_id)
    blob = session.get(Blob, row.blob_id)
    assert blob is not None
    notice = notice_from_json(decrypt_blob(store, blob, staff_identity))
    return row, render_docx(notice)
