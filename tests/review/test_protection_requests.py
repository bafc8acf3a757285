"""Protection requests on the reviewers' side (issue 13 §5): on top of the holding
unit's inbox and of the oversight unit's, with the due day and the overdue state; the
answer is a staff action (open → answered, audited); a unit that cannot read the case
learns nothing; the dashboard counts them with the small-count suppression."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from app import clock
from app.cases.statistics import THRESHOLD, oversight_statistics
from app.database import Database
from app.models import Case, Message, ProtectionRequest, utcnow
from app.models.cases import new_message_id
from app.models.vocabulary import Side
from app.web.dates import format_day
from tests.conftest import CsrfClient
from tests.factories import Report, open_case, send_protection_request
from tests.review.conftest import ReportFactory, StaffFactory, audit_actions, case_state

TEXT = "Sau khi tố cáo tôi bị cắt lương; ông Trịnh Văn Đạt nói sẽ cho tôi nghỉ việc."
ANSWER = "Chúng tôi đã đề nghị Giám đốc Sở áp dụng biện pháp bảo vệ việc làm cho ông/bà."


def _filed(report: ReportFactory, intake_client: CsrfClient, database: Database) -> Report:
    sent = report()
    assert open_case(intake_client, sent.receipt).status_code == 303
    assert send_protection_request(intake_client, TEXT).status_code == 303
    return sent


def _request_id(database: Database, case_id: str) -> int:
    with database.read_session() as db:
        return db.scalars(
            select(ProtectionRequest.message_id).where(ProtectionRequest.case_id == case_id)
        ).one()


def _section(page: str) -> str:
    """The inbox's protection block, or "" when it is not shown."""
    start = page.find('id="protection-requests"')
    return page[start : page.find("</section>", start)] if start >= 0 else ""


@pytest.mark.both_backends
def test_the_holding_unit_answers_and_the_oversight_unit_watches(
    staff: StaffFactory,
    report: ReportFactory,
    intake_client: CsrfClient,
    database: Database,
) -> None:
    đào = staff("dao-tiep-nhan", "intake")
    hùng = staff("hung-thanh-tra", "inspection")
    lan = staff("lan-ban-chi-dao", "oversight", role="observer")
    sent = _filed(report, intake_client, database)
    request_id = _request_id(database, sent.case_id)
    today = clock.today()
    with database.read_session() as db:
        due = db.get(ProtectionRequest, request_id).due_day  # type: ignore[union-attr]

    # The holding unit: on top of the inbox, before the case list, with its due day.
    inbox = đào.client.get("/inbox").get_data(as_text=True)
    block = _section(inbox)
    assert sent.reference in block and format_day(due, "en") in block
    assert inbox.index('id="protection-requests"') < inbox.index('class="filters"')
    assert f"/cases/{sent.case_id}#protection-{request_id}" in block
    case_page = đào.client.get(f"/cases/{sent.case_id}").get_data(as_text=True)
    assert TEXT in case_page and "Protection request / report of retaliation" in case_page
    assert f'name="request" value="{request_id}"' in case_page

    # The oversight unit: the reference, the unit and the days; no link, no text.
    watched = lan.client.get("/inbox").get_data(as_text=True)
    assert sent.reference in _section(watched) and format_day(due, "en") in _section(watched)
    assert f"/cases/{sent.case_id}" not in watched and TEXT not in watched
    assert lan.client.get(f"/cases/{sent.case_id}").status_code in (403, 404)

    # A unit that cannot read the case: nothing, and its answer changes nothing.
    other = hùng.client.get("/inbox").get_data(as_text=True)
    assert _section(other) == "" and sent.reference not in other
    assert hùng.client.get(f"/cases/{sent.case_id}").status_code == 404
    before = case_state(database, sent.case_id)
    refused = hùng.post(
        f"/cases/{sent.case_id}/answer-protection",
        {"request": str(request_id), "message": ANSWER},
    )
    assert refused.status_code == 404
    assert case_state(database, sent.case_id) == before

    # Overdue once its day has passed: marked so in both inboxes.
    with database.session() as db:
        db.execute(
            update(ProtectionRequest)
            .where(ProtectionRequest.message_id == request_id)
            .values(due_day=today - timedelta(days=1))
        )
    assert "overdue" in _section(đào.client.get("/inbox").get_data(as_text=True))
    assert "overdue" in _section(lan.client.get("/inbox").get_data(as_text=True))

    # An empty answer is refused and changes nothing.
    before = case_state(database, sent.case_id)
    empty = đào.post(
        f"/cases/{sent.case_id}/answer-protection", {"request": str(request_id), "message": " "}
    )
    assert empty.status_code == 303
    assert "Please write a message." in đào.client.get(empty.headers["Location"]).get_data(
        as_text=True
    )
    assert case_state(database, sent.case_id) == before

    answered = đào.post(
        f"/cases/{sent.case_id}/answer-protection",
        {"request": str(request_id), "message": ANSWER},
    )
    assert answered.status_code == 303
    shown = đào.client.get(answered.headers["Location"]).get_data(as_text=True)
    assert "The protection request is marked answered." in shown and ANSWER in shown
    with database.read_session() as db:
        request = db.get(ProtectionRequest, request_id)
        assert request is not None and request.answered_at is not None
        assert request.answered_by_id == đào.id and request.answer_message_id is not None
    assert audit_actions(database, sent.case_id).count("protection.answered") == 1
    assert _section(đào.client.get("/inbox").get_data(as_text=True)) == ""
    assert _section(lan.client.get("/inbox").get_data(as_text=True)) == ""

    # Once: a second answer is refused.
    again = đào.post(
        f"/cases/{sent.case_id}/answer-protection",
        {"request": str(request_id), "message": ANSWER},
    )
    assert "already answered" in đào.client.get(again.headers["Location"]).get_data(as_text=True)
    assert audit_actions(database, sent.case_id).count("protection.answered") == 1


def _requests(database: Database, case_id: str, dues: list[date]) -> None:
    """Flagged reporter messages straight into the database (counting needs no text)."""
    with database.session() as db:
        for due in dues:
            message = Message(
                id=new_message_id(),
                case_id=case_id,
                author_side=Side.REPORTER.value,
                created_at=clock.day_stamp(clock.today()),
            )
            db.add(message)
            db.flush()
            db.add(
                ProtectionRequest(
                    message_id=message.id,
                    case_id=case_id,
                    filed_day=clock.today(),
                    due_day=due,
                )
            )


@pytest.mark.both_backends
def test_dashboard_counts_open_and_overdue_requests_with_suppression(
    report: ReportFactory, database: Database, staff: StaffFactory
) -> None:
    sent = report()
    today = clock.today()
    with database.read_session() as db:
        assert [r.count.label for r in oversight_statistics(db, today).protection] == ["0", "0"]
    _requests(database, sent.case_id, [today - timedelta(days=1), today])
    with database.read_session() as db:
        rows = {r.key: r.count for r in oversight_statistics(db, today).protection}
    assert rows["open"].value is None and rows["open"].label == "< 5"
    assert rows["overdue"].label == "< 5"

    _requests(database, sent.case_id, [today - timedelta(days=2)] * 5 + [today] * 2)
    with database.session() as db:
        # One answered: no longer open, no longer overdue.
        first = db.scalars(
            select(ProtectionRequest).where(ProtectionRequest.due_day < today).limit(1)
        ).one()
        first.answered_at = utcnow()
    with database.read_session() as db:
        rows = {r.key: r.count for r in oversight_statistics(db, today).protection}
    assert rows["open"].value == 8 and rows["overdue"].value == 5
    assert rows["overdue"].value >= THRESHOLD

    lan = staff("lan-giam-sat", "oversight", role="observer")
    page = lan.client.get("/dashboard").get_data(as_text=True)
    assert "Whistleblower protection requests" in page and "Overdue protection requests" in page
    csv = lan.client.get("/dashboard.csv").get_data(as_text=True)
    assert "protection_requests,open,8" in csv and "protection_requests,overdue,5" in csv


@pytest.mark.both_backends
def test_dashboard_counts_overdue_statutory_deadlines(
    report: ReportFactory, database: Database, staff: StaffFactory
) -> None:
    sents = [report() for _ in range(6)]
    today = clock.today()
    long_ago = today - timedelta(days=60)
    with database.session() as db:
        # Five named denunciations received 60 days ago and never decided, one of them
        # closed (not counted), plus one accepted 60 days ago and not concluded; one
        # anonymous case as old is never statutorily late (art. 25).
        ids = [s.case_id for s in sents]
        db.execute(
            update(Case).where(Case.id.in_(ids[:5])).values(track="named", created_day=long_ago)
        )
        db.execute(update(Case).where(Case.id == ids[4]).values(status="closed"))
        db.execute(
            update(Case)
            .where(Case.id == ids[0])
            .values(statutory_decision="accepted", statutory_decision_day=long_ago)
        )
        db.execute(update(Case).where(Case.id == ids[5]).values(created_day=long_ago))
    with database.read_session() as db:
        rows = {r.key: r.count for r in oversight_statistics(db, today).statutory_overdue}
    # 3 undecided open named cases and 1 overdue resolution: both small, withheld.
    assert rows["acceptance"].label == "< 5" and rows["resolution"].label == "< 5"
    more = [report() for _ in range(2)]
    with database.session() as db:
        db.execute(
            update(Case)
            .where(Case.id.in_([s.case_id for s in more]))
            .values(track="named", created_day=long_ago)
        )
    with database.read_session() as db:
        rows = {r.key: r.count for r in oversight_statistics(db, today).statutory_overdue}
    assert rows["acceptance"].value == 5
    lan = staff("lan-thong-ke", "oversight", role="observer")
    page = lan.client.get("/dashboard").get_data(as_text=True)
    assert "Statutory acceptance decision overdue" in page
    assert "statutory_overdue,acceptance,5" in lan.client.get("/dashboard.csv").get_data(
        as_text=True
    )


def _case_table(page: str) -> str:
    """The inbox's table of cases (below the protection block, which lists requests by
    reference whatever the filters); "" when no case matches."""
    start = page.find('<table class="inbox">')
    return page[start:] if start >= 0 else ""


@pytest.mark.both_backends
def test_an_overdue_request_marks_the_inbox_row_and_passes_overdue_only(
    staff: StaffFactory, report: ReportFactory, database: Database
) -> None:
    """A case whose only missed clock is a protection request's answer (app.cases.inbox):
    the filter "overdue only" keeps it and its row says overdue; the day before, not."""
    đào = staff("dao-tiep-nhan", "intake")
    sent = report()
    today = clock.today()
    _requests(database, sent.case_id, [today])  # due today: not yet missed
    rows = _case_table(đào.client.get("/inbox").get_data(as_text=True))
    assert sent.reference in rows and "protection-due" not in rows  # positive control
    assert sent.reference not in _case_table(
        đào.client.get("/inbox?overdue=1").get_data(as_text=True)
    )

    with database.session() as db:
        db.execute(
            update(ProtectionRequest)
            .where(ProtectionRequest.case_id == sent.case_id)
            .values(due_day=today - timedelta(days=1))
        )
    late = _case_table(đào.client.get("/inbox?overdue=1").get_data(as_text=True))
    assert sent.reference in late
    assert "badge deadline-overdue" in late
    assert "protection-due deadline-overdue" in late
