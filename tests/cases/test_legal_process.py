"""The statutory process of a named denunciation: accept, refuse, transfer, extend, each
with its notice in the reporter's thread (PDF, case key) and its fields for the office's
DOCX (staff key); the order and limits of Luật Tố cáo arts. 24, 29, 30."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app import clock
from app.cases import legal_process
from app.cases.access import AccessDenied, Actor, load_actor
from app.cases.blobs import decrypt_blob
from app.cases.legal_process import StatutoryError, statutory_state
from app.cases.messages import load_thread
from app.cases.notices import NoticeKind
from app.cases.reading import case_identities
from app.database import Database
from app.models import AuditEvent, Blob, Case, CaseNotice
from app.models.cases import NOTICE_KINDS
from app.models.vocabulary import KeyKind
from app.storage import BlobStore
from config import Settings
from tests.cases.notices.readback import docx_text
from tests.factories import ReviewerKeys, SubmittedCase, make_reviewer, submit_case

pytestmark = pytest.mark.both_backends

RECEIVED = date(2027, 1, 4)  # a Monday
TODAY = date(2027, 1, 12)
CONTENT = "Việc cấp phép xây dựng sai quy định tại phường Ninh Kiều"
REASON = "Đơn không ghi rõ người có hành vi vi phạm; thiếu tài liệu kèm theo"


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "today", lambda: TODAY)


@pytest.fixture
def đạt(database: Database) -> ReviewerKeys:
    return make_reviewer(database, "intake", username="đạt-tiếp-nhận")


def _case(database: Database, settings: Settings, track: str = "named") -> SubmittedCase:
    sent = submit_case(database, settings, summary="Ủy ban phường cấp phép sai")
    with database.session() as db:
        case = db.get(Case, sent.case_id)
        assert case is not None
        case.track = track  # the report form's track choice is another helper's work
        case.created_day = RECEIVED
    return sent


@pytest.fixture
def named(database: Database, settings: Settings, đạt: ReviewerKeys) -> SubmittedCase:
    return _case(database, settings)


def _actor(db: Any, who: ReviewerKeys) -> Actor:
    return load_actor(db, who.id, who.identity)


def _run(
    database: Database, settings: Settings, who: ReviewerKeys, case_id: str, action: Any, **kw: Any
) -> None:
    from app.cases import unit_of_work

    store = BlobStore(settings.blob_path)
    with unit_of_work.transaction(database.sessionmaker) as db:
        case = db.get(Case, case_id)
        assert case is not None
        action(db, store, _actor(db, who), case, **kw)


def _accept(database: Database, settings: Settings, who: ReviewerKeys, case_id: str) -> None:
    _run(
        database,
        settings,
        who,
        case_id,
        legal_process.accept,
        on=TODAY,
        decision_number="12/QĐ-TTr",
        content=CONTENT,
    )


def _pdfs(database: Database, settings: Settings, who: ReviewerKeys, case_id: str) -> list[str]:
    """The reporter's thread, as they decrypt it with the case key: the text of every
    PDF attached, in thread order."""
    store = BlobStore(settings.blob_path)
    with database.read_session() as db:
        case = db.get(Case, case_id)
        assert case is not None
        identity = case_identities(db, _actor(db, who), case)[KeyKind.CASE]
        texts = []
        for message in load_thread(db, store, case_id, identity):
            for attachment in message.attachments:
                blob = db.get(Blob, attachment.blob_id)
                assert blob is not None and attachment.meta.type == "application/pdf"
                pdf = PdfReader(io.BytesIO(decrypt_blob(store, blob, identity)))
                texts.append(" ".join(page.extract_text() for page in pdf.pages))
        return texts


def _state(database: Database, case_id: str) -> Any:
    with database.read_session() as db:
        case = db.get(Case, case_id)
        assert case is not None
        return statutory_state(case, TODAY)


def test_notice_kinds_of_the_table_are_the_domains() -> None:
    assert set(NOTICE_KINDS) == {kind.value for kind in NoticeKind}


def test_acceptance_notifies_with_the_resolution_day(
    database: Database, settings: Settings, named: SubmittedCase, đạt: ReviewerKeys
) -> None:
    before = _state(database, named.case_id)
    # Art. 24(1): the 7th working day after Monday 04/01/2027.
    assert before.acceptance_due == date(2027, 1, 13)
    assert before.decision is None and before.resolution_due is None

    _accept(database, settings, đạt, named.case_id)

    after = _state(database, named.case_id)
    assert after.decision == "accepted" and after.decision_day == TODAY
    # Art. 30(1): 30 days from 12/01/2027 is Thursday 11/02/2027, the day after Tết.
    assert after.resolution_due == date(2027, 2, 11)
    (pdf,) = _pdfs(database, settings, đạt, named.case_id)
    assert "Về việc thụ lý tố cáo" in pdf
    for day in ("04/01/2027", "12/01/2027", "11/02/2027"):
        assert day in pdf
    assert "12/QĐ-TTr" in pdf and "phường Ninh Kiều" in pdf
    # The reviewers' case reference is the office's mark: never in the reporter's copy.
    with database.read_session() as db:
        case = db.get(Case, named.case_id)
        assert case is not None
        assert case.reference not in pdf
        events = list(
            db.scalars(select(AuditEvent).where(AuditEvent.action == "case.accepted")).all()
        )
    assert len(events) == 1 and CONTENT not in events[0].details


def test_a_second_decision_is_refused_and_changes_nothing(
    database: Database, settings: Settings, named: SubmittedCase, đạt: ReviewerKeys
) -> None:
    _accept(database, settings, đạt, named.case_id)
    for action, kw in (
        (legal_process.accept, {"on": TODAY, "decision_number": "13/QĐ-TTr", "content": "x"}),
        (legal_process.refuse, {"reason": REASON}),
        (legal_process.transfer, {"authority": "UBND phường Cái Răng", "reason": REASON}),
    ):
        with pytest.raises(StatutoryError) as refused:
            _run(database, settings, đạt, named.case_id, action, **kw)
        assert refused.value.code == "already_decided"
    assert len(_pdfs(database, settings, đạt, named.case_id)) == 1
    assert _state(database, named.case_id).decision == "accepted"


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"on": None, "decision_number": "12/QĐ-TTr", "content": CONTENT}, "day_required"),
        ({"on": date(2027, 1, 3), "decision_number": "12/QĐ-TTr", "content": CONTENT}, "bad_day"),
        ({"on": date(2027, 1, 13), "decision_number": "12/QĐ-TTr", "content": CONTENT}, "bad_day"),
        ({"on": TODAY, "decision_number": "  ", "content": CONTENT}, "decision_number_required"),
        ({"on": TODAY, "decision_number": "12/QĐ-TTr", "content": " "}, "content_required"),
    ],
)
def test_bad_acceptance_input_changes_nothing(
    database: Database,
    settings: Settings,
    named: SubmittedCase,
    đạt: ReviewerKeys,
    kw: dict[str, Any],
    code: str,
) -> None:
    with pytest.raises(StatutoryError) as refused:
        _run(database, settings, đạt, named.case_id, legal_process.accept, **kw)
    assert refused.value.code == code
    assert _state(database, named.case_id).decision is None
    assert _pdfs(database, settings, đạt, named.case_id) == []


def test_refusal_needs_a_reason_and_sends_it(
    database: Database, settings: Settings, named: SubmittedCase, đạt: ReviewerKeys
) -> None:
    with pytest.raises(StatutoryError) as refused:
        _run(database, settings, đạt, named.case_id, legal_process.refuse, reason="  \n ")
    assert refused.value.code == "reason_required"
    assert _state(database, named.case_id).decision is None

    _run(database, settings, đạt, named.case_id, legal_process.refuse, reason=REASON)
    assert _state(database, named.case_id).decision == "refused"
    (pdf,) = _pdfs(database, settings, đạt, named.case_id)
    assert "Về việc không thụ lý tố cáo" in pdf and "thiếu tài liệu kèm theo" in pdf


def test_transfer_names_the_competent_body(
    database: Database, settings: Settings, named: SubmittedCase, đạt: ReviewerKeys
) -> None:
    with pytest.raises(StatutoryError) as refused:
        _run(
            database,
            settings,
            đạt,
            named.case_id,
            legal_process.transfer,
            authority="",
            reason=REASON,
        )
    assert refused.value.code == "authority_required"
    _run(
        database,
        settings,
        đạt,
        named.case_id,
        legal_process.transfer,
        authority="Ủy ban nhân dân phường Cái Răng",
        reason=REASON,
    )
    assert _state(database, named.case_id).decision == "transferred"
    (pdf,) = _pdfs(database, settings, đạt, named.case_id)
    assert "Ủy ban nhân dân phường Cái Răng" in pdf


def test_extensions_follow_article_30(
    database: Database, settings: Settings, named: SubmittedCase, đạt: ReviewerKeys
) -> None:
    with pytest.raises(StatutoryError) as early:
        _run(
            database,
            settings,
            đạt,
            named.case_id,
            legal_process.extend,
            reason=REASON,
            criteria=["several_places"],
        )
    assert early.value.code == "not_accepted"
    _accept(database, settings, đạt, named.case_id)
    for criteria, code in (([], "criteria_required"), (["made_up"], "criteria_required")):
        with pytest.raises(StatutoryError) as bad:
            _run(
                database,
                settings,
                đạt,
                named.case_id,
                legal_process.extend,
                reason=REASON,
                criteria=criteria,
            )
        assert bad.value.code == code

    _run(
        database,
        settings,
        đạt,
        named.case_id,
        legal_process.extend,
        reason=REASON,
        criteria=["several_places"],
    )
    state = _state(database, named.case_id)
    # 60 days from 12/01/2027 is Saturday 13/03: the period ends on Monday 15/03 (Civil
    # Code art. 148).
    assert (state.extensions, state.resolution_due) == (1, date(2027, 3, 15))
    extension = _pdfs(database, settings, đạt, named.case_id)[-1]
    assert "Về việc gia hạn giải quyết tố cáo" in extension and "15/03/2027" in extension
    assert "lần thứ nhất" in extension

    # A complex case (one criterion) has no second extension (art. 30(2)).
    with pytest.raises(StatutoryError) as second:
        _run(
            database,
            settings,
            đạt,
            named.case_id,
            legal_process.extend,
            reason=REASON,
            criteria=["several_places"],
        )
    assert second.value.code == "second_needs_especially_complex"
    _run(
        database,
        settings,
        đạt,
        named.case_id,
        legal_process.extend,
        reason=REASON,
        criteria=["several_places", "contradictory_evidence"],
    )
    assert _state(database, named.case_id).resolution_due == date(2027, 4, 12)
    with pytest.raises(StatutoryError) as third:
        _run(
            database,
            settings,
            đạt,
            named.case_id,
            legal_process.extend,
            reason=REASON,
            criteria=["several_places", "contradictory_evidence"],
        )
    assert third.value.code == "extensions_exhausted"
    assert len(_pdfs(database, settings, đạt, named.case_id)) == 3


def test_anonymous_information_has_no_statutory_action(
    database: Database, settings: Settings, đạt: ReviewerKeys
) -> None:
    sent = _case(database, settings, track="anonymous")
    assert _state(database, sent.case_id) is None
    with pytest.raises(StatutoryError) as refused:
        _accept(database, settings, đạt, sent.case_id)
    assert refused.value.code == "not_named"
    assert _pdfs(database, settings, đạt, sent.case_id) == []


def test_anonymous_information_gets_the_system_notice_once(
    database: Database, settings: Settings, đạt: ReviewerKeys
) -> None:
    sent = _case(database, settings, track="anonymous")
    _run(database, settings, đạt, sent.case_id, legal_process.send_information_notice)
    _run(database, settings, đạt, sent.case_id, legal_process.send_information_notice)
    (pdf,) = _pdfs(database, settings, đạt, sent.case_id)
    assert "THÔNG BÁO CỦA HỆ THỐNG" in pdf and "04/01/2027" in pdf


def test_only_a_reader_of_the_case_acts(
    database: Database, settings: Settings, named: SubmittedCase
) -> None:
    outsider = make_reviewer(database, "investigation", username="ủy-điều-tra")
    with pytest.raises(AccessDenied):
        _accept(database, settings, outsider, named.case_id)
    assert _state(database, named.case_id).decision is None


def test_acceptance_overdue_and_late_acceptance_allowed(
    database: Database,
    settings: Settings,
    named: SubmittedCase,
    đạt: ReviewerKeys,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    late = date(2027, 1, 14)  # the day after the 7th working day
    monkeypatch.setattr(clock, "today", lambda: late)
    with database.read_session() as db:
        case = db.get(Case, named.case_id)
        assert case is not None
        assert statutory_state(case, late).acceptance_overdue  # type: ignore[union-attr]
        assert not statutory_state(case, TODAY).acceptance_overdue  # type: ignore[union-attr]
    _run(
        database,
        settings,
        đạt,
        named.case_id,
        legal_process.accept,
        on=late,
        decision_number="12/QĐ-TTr",
        content=CONTENT,
    )
    with database.read_session() as db:
        case = db.get(Case, named.case_id)
        assert case is not None
        state = statutory_state(case, late)
        assert state is not None and not state.acceptance_overdue
        assert state.decision_day == late


def test_office_copy_is_rendered_from_the_encrypted_fields(
    database: Database, settings: Settings, named: SubmittedCase, đạt: ReviewerKeys
) -> None:
    _run(database, settings, đạt, named.case_id, legal_process.refuse, reason=REASON)
    store = BlobStore(settings.blob_path)
    with database.read_session() as db:
        case = db.get(Case, named.case_id)
        assert case is not None
        (row,) = db.scalars(select(CaseNotice).where(CaseNotice.case_id == case.id)).all()
        staff = case_identities(db, _actor(db, đạt), case)[KeyKind.STAFF]
        _, data = legal_process.office_copy(db, store, case.id, row.id, staff)
        reference = case.reference
        with pytest.raises(LookupError):
            legal_process.office_copy(db, store, case.id, row.id + 1, staff)
    text = docx_text(data)
    assert "thiếu tài liệu kèm theo" in text
    assert reference in text  # the filing line, on the office's copy only


def test_conclusion_ends_the_period_and_notifies(
    database: Database, settings: Settings, named: SubmittedCase, đạt: ReviewerKeys
) -> None:
    outcome = "Tố cáo đúng một phần: việc cấp phép sai quy định tại đường số 3"
    conclude = {"on": TODAY, "conclusion_number": "9/KL-TTr", "outcome": outcome}
    with pytest.raises(StatutoryError) as early:
        _run(database, settings, đạt, named.case_id, legal_process.conclude, **conclude)
    assert early.value.code == "not_accepted"
    _accept(database, settings, đạt, named.case_id)
    for changes, code in (
        ({"on": date(2027, 1, 11)}, "bad_day"),  # before the acceptance on 12/01
        ({"conclusion_number": " "}, "conclusion_number_required"),
        ({"outcome": ""}, "outcome_required"),
    ):
        with pytest.raises(StatutoryError) as bad:
            _run(
                database,
                settings,
                đạt,
                named.case_id,
                legal_process.conclude,
                **{**conclude, **changes},
            )
        assert bad.value.code == code
    assert _state(database, named.case_id).concluded_day is None

    _run(database, settings, đạt, named.case_id, legal_process.conclude, **conclude)
    state = _state(database, named.case_id)
    assert state.concluded_day == TODAY and not state.resolution_overdue
    # Art. 35(3): the denouncer is told within 5 working days of the conclusion.
    assert state.conclusion_notice_due == date(2027, 1, 19)
    assert state.extensions_left == 0
    notice = _pdfs(database, settings, đạt, named.case_id)[-1]
    assert "Về kết luận nội dung tố cáo" in notice and "9/KL-TTr" in notice
    assert "đường số 3" in notice and "12/01/2027" in notice
    for action, kw in (
        (legal_process.conclude, conclude),
        (legal_process.extend, {"reason": REASON, "criteria": ["several_places"]}),
    ):
        with pytest.raises(StatutoryError) as again:
            _run(database, settings, đạt, named.case_id, action, **kw)
        assert again.value.code == "already_concluded"
    assert len(_pdfs(database, settings, đạt, named.case_id)) == 2
