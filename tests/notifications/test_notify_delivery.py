"""Notifications end to end against a real SMTP server: who gets mail, what it says (and
does not say), overdue notices once, failures recorded and retried."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from app.cases.day_release import Released, release_finished_days
from app.cases.keys import unit_reader_recipients
from app.database import Database
from app.models import Case, HeldNotification, Notification, Recusal, Reviewer, Unit
from app.models.notifications import NotificationKind
from app.models.vocabulary import Role
from app.notifications import mailer, outbox
from config import Settings
from config.settings import SmtpSettings
from tests.factories import ReviewerKeys, make_reviewer, submit_case
from tests.notifications.conftest import SmtpServer, free_port, set_address

pytestmark = pytest.mark.both_backends

CANARY = "CANARY-7f3a9c-nội-dung-bí-mật"
REVIEW_URL = "https://review.example.org"


def _reviewer(database: Database, *units: str, address: str | None, **kw: object) -> ReviewerKeys:
    keys = make_reviewer(database, *units, **kw)  # type: ignore[arg-type]
    set_address(database, keys.id, address)
    return keys


def _queue_new_case(database: Database, case_id: str, now: datetime) -> int:
    with database.session() as db:
        case = db.get(Case, case_id)
        assert case is not None
        return outbox.queue_new_case(db, case, now=now)


def _send(database: Database, smtp: SmtpSettings, now: datetime) -> mailer.SendReport:
    with database.sessionmaker() as db:
        return mailer.send_pending(db, smtp, REVIEW_URL, now)


def _rows(database: Database) -> list[Notification]:
    with database.read_session() as db:
        return list(db.scalars(select(Notification).order_by(Notification.id)))


def _smtp(settings: Settings) -> SmtpSettings:
    assert settings.smtp is not None
    return settings.smtp


NOW = datetime(2026, 3, 2, 9, 41, 17, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def test_new_case_mails_every_reader_with_an_address_and_nobody_else(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    reader = _reviewer(database, "intake", address="an@so.example.org")
    admin = _reviewer(database, "intake", address="binh@so.example.org", role=Role.ADMIN)
    _reviewer(database, "intake", address=None)  # reads, but has no address
    _reviewer(database, "inspection", address="cuong@tt.example.org")  # another unit
    _reviewer(database, "intake", "inspection", address="dung@tt.example.org")  # excluded
    _reviewer(database, "intake", address="em@bcd.example.org", role=Role.OBSERVER)
    recused = _reviewer(database, "intake", address="giang@so.example.org")
    case = submit_case(database, settings, details=CANARY, excluded=("inspection",))
    with database.session() as db:
        db.add(Recusal(case_id=case.case_id, reviewer_id=recused.id))

    assert _queue_new_case(database, case.case_id, NOW) == 2

    report = _send(database, _smtp(settings), NOW)
    assert report == mailer.SendReport(sent=2)
    assert sorted(r for m in smtp_server.received for r in m.recipients) == [
        "an@so.example.org",
        "binh@so.example.org",
    ]
    with database.read_session() as db:
        stored = db.get(Case, case.case_id)
        assert stored is not None
        reference, category = stored.reference, stored.category
    link = f"{REVIEW_URL}/cases/{case.case_id}"
    for mail in smtp_server.received:
        raw = mail.message.as_string()
        assert link in mail.body
        assert "Có hoạt động mới trong hộp thư Liêm Chính" in mail.body
        assert "New activity in your Liêm Chính inbox" in mail.body
        for secret in (CANARY, "Chi tiết", "Tóm tắt", reference, category, "health"):
            assert secret not in raw
        assert mail.message["From"] == settings.smtp.sender  # type: ignore[union-attr]
        assert mail.message["Auto-Submitted"] == "auto-generated"
    rows = _rows(database)
    assert {r.reviewer_id for r in rows} == {reader.id, admin.id}
    # Queued at system time: a reporter's notice is only queued once its day is over
    # (test_a_reporters_notice_waits_for_the_end_of_the_day).
    assert all(r.created_at == NOW for r in rows)
    assert all(r.sent_at == NOW and r.attempts == 1 for r in rows)
    # Nothing more on the next run.
    assert _send(database, _smtp(settings), LATER + timedelta(minutes=1)).sent == 0


def test_a_reporters_notice_waits_for_the_end_of_the_day(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    _reviewer(database, "intake", address="an@so.example.org")
    case = submit_case(database, settings)
    day = date(2026, 3, 2)
    with database.session() as db:
        stored = db.get(Case, case.case_id)
        assert stored is not None
        outbox.hold_new_case(db, stored, day)
        # Three messages that day: still one held row (case, kind, day), no time.
        for _ in range(3):
            outbox.hold_reporter_message(db, stored, day)
    with database.read_session() as db:
        assert db.scalar(select(func.count()).select_from(HeldNotification)) == 2
    assert _rows(database) == []
    with database.session() as db:
        assert release_finished_days(db, notify=True, today=day) == Released(0, 0)
    assert _send(database, _smtp(settings), NOW).sent == 0

    with database.session() as db:
        released = release_finished_days(db, notify=True, today=day + timedelta(days=1))
    # One notice per reviewer and case: the new case's covers the messages. Queued at
    # the time of the release (system time), due at once.
    assert released.notices == 1
    assert _send(database, _smtp(settings), datetime.now(UTC)).sent == 1
    assert [m.recipients for m in smtp_server.received] == [["an@so.example.org"]]
    with database.read_session() as db:
        assert db.scalar(select(func.count()).select_from(HeldNotification)) == 0


def test_held_notices_of_a_purged_case_or_without_smtp_are_dropped(
    database: Database, settings: Settings
) -> None:
    _reviewer(database, "intake", address="an@so.example.org")
    case = submit_case(database, settings)
    day = date(2026, 3, 2)
    with database.session() as db:
        stored = db.get(Case, case.case_id)
        assert stored is not None
        outbox.hold_new_case(db, stored, day)
        outbox.hold_reporter_message(db, stored, day)
    with database.session() as db:
        # Notifications switched off since: nothing is queued, nothing stays held.
        assert release_finished_days(db, notify=False, today=day + timedelta(days=1)).notices == 0
    with database.read_session() as db:
        assert db.scalar(select(func.count()).select_from(HeldNotification)) == 0
    assert _rows(database) == []


def test_readers_are_those_who_hold_the_key(database: Database, settings: Settings) -> None:
    for units in (("intake",), ("intake", "investigation"), ("inspection",)):
        _reviewer(database, *units, address=f"r{len(units)}-{units[-1]}@example.org")
    _reviewer(database, "intake", address="obs@example.org", role=Role.OBSERVER)
    case = submit_case(database, settings, excluded=("investigation",))
    with database.read_session() as db:
        stored = db.get(Case, case.case_id)
        assert stored is not None
        notified = outbox.readers_to_notify(db, stored)
        excluded = db.scalar(select(Unit.id).where(Unit.slug == "investigation"))
        keys = {
            str(r)
            for r in unit_reader_recipients(
                db, stored.holding_unit_id, excluded_unit_ids=[excluded or 0], case_id=stored.id
            )
        }
        notified_keys = set(
            db.scalars(select(Reviewer.public_key).where(Reviewer.id.in_(notified)))
        )
    assert notified and notified_keys == keys


def test_reporter_message_mails_once_per_batch(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    _reviewer(database, "intake", address="an@so.example.org")
    case = submit_case(database, settings)
    with database.session() as db:
        stored = db.get(Case, case.case_id)
        assert stored is not None
        assert outbox.queue_reporter_message(db, stored, now=NOW) == 1
        # A second message within the same hour joins the waiting notice.
        assert outbox.queue_reporter_message(db, stored, now=NOW + timedelta(minutes=5)) == 0
    assert _send(database, _smtp(settings), LATER).sent == 1
    assert [m.recipients for m in smtp_server.received] == [["an@so.example.org"]]
    assert f"{REVIEW_URL}/cases/{case.case_id}" in smtp_server.received[0].body
    with database.session() as db:
        stored = db.get(Case, case.case_id)
        assert stored is not None
        assert outbox.queue_reporter_message(db, stored, now=LATER) == 1


def test_overdue_is_mailed_once_not_every_day(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    _reviewer(database, "intake", address="an@so.example.org")
    case = submit_case(database, settings)
    today = date(2026, 3, 20)
    with database.session() as db:
        db.execute(
            update(Case)
            .where(Case.id == case.case_id)
            .values(
                acknowledge_due=today - timedelta(days=1), decision_due=today + timedelta(days=5)
            )
        )
        assert outbox.queue_overdue(db, today, now=NOW) == 1
    assert _send(database, _smtp(settings), LATER).sent == 1
    for day in (today, today + timedelta(days=1), today + timedelta(days=2)):
        with database.session() as db:
            assert outbox.queue_overdue(db, day, now=NOW) == 0
        assert _send(database, _smtp(settings), LATER + timedelta(days=3)).sent == 0
    assert len(smtp_server.received) == 1
    # Another deadline missed later is another notice, once.
    with database.session() as db:
        assert outbox.queue_overdue(db, today + timedelta(days=6), now=NOW) == 1
        assert outbox.queue_overdue(db, today + timedelta(days=7), now=NOW) == 0
    assert _send(database, _smtp(settings), LATER + timedelta(days=7)).sent == 1
    assert len(smtp_server.received) == 2


def test_no_overdue_notice_for_closed_or_acknowledged_cases(
    database: Database, settings: Settings
) -> None:
    _reviewer(database, "intake", address="an@so.example.org")
    closed = submit_case(database, settings)
    acknowledged = submit_case(database, settings)
    today = date(2030, 1, 1)  # every deadline of both cases has passed
    with database.session() as db:
        db.execute(update(Case).where(Case.id == closed.case_id).values(status="closed"))
        db.execute(
            update(Case)
            .where(Case.id == acknowledged.case_id)
            .values(acknowledged_at=NOW, decided_at=NOW, feedback_at=NOW)
        )
        assert outbox.queue_overdue(db, today, now=NOW) == 0


def test_server_down_is_recorded_logged_without_address_and_retried(
    database: Database,
    settings: Settings,
    smtp_server: SmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    an = _reviewer(database, "intake", address="an.nguyen@so.example.org")
    case = submit_case(database, settings)
    _queue_new_case(database, case.case_id, NOW)
    smtp_server.stop()

    with caplog.at_level(logging.ERROR, logger="liemchinh.notifications"):
        report = _send(database, _smtp(settings), LATER)
    assert report.failed == 1 and report.sent == 0
    (row,) = _rows(database)
    assert row.sent_at is None and row.attempts == 1
    assert row.last_error is not None and row.last_error.startswith("ConnectionRefusedError")
    assert row.not_before > LATER  # backs off
    errors = [r for r in caplog.records if r.name == "liemchinh.notifications"]
    assert errors and errors[0].levelno == logging.ERROR
    text = caplog.text
    assert f"reviewer {an.id}" in text
    assert "an.nguyen" not in text and "so.example.org" not in text

    # Not retried before its back-off delay, then delivered once the server is back.
    smtp_server.start()
    assert _send(database, _smtp(settings), LATER + timedelta(seconds=30)).sent == 0
    report = _send(database, _smtp(settings), LATER + timedelta(minutes=5))
    assert report.sent == 1
    (row,) = _rows(database)
    assert row.sent_at is not None and row.attempts == 2 and row.last_error is None
    assert [m.recipients for m in smtp_server.received] == [["an.nguyen@so.example.org"]]


def test_unreachable_port_fails_every_due_row_once(database: Database, settings: Settings) -> None:
    for n in range(3):
        _reviewer(database, "intake", address=f"r{n}@example.org")
    case = submit_case(database, settings)
    _queue_new_case(database, case.case_id, NOW)
    closed = SmtpSettings(host="127.0.0.1", port=free_port(), starttls=False, sender="a@b.org")
    report = _send(database, closed, LATER)
    assert report.failed == 3
    assert [r.attempts for r in _rows(database)] == [1, 1, 1]


def test_refused_recipient_error_hides_the_address(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    _reviewer(database, "intake", address="gone@so.example.org")
    ok = _reviewer(database, "intake", address="here@so.example.org")
    smtp_server.collector.refuse.add("gone@so.example.org")
    case = submit_case(database, settings)
    _queue_new_case(database, case.case_id, NOW)
    report = _send(database, _smtp(settings), LATER)
    assert (report.sent, report.failed) == (1, 1)
    failed = next(r for r in _rows(database) if r.sent_at is None)
    assert failed.last_error is not None
    assert failed.last_error.startswith("SMTPRecipientsRefused: 550")
    assert "gone@" not in failed.last_error and "<recipient>" in failed.last_error
    assert [m.recipients for m in smtp_server.received] == [["here@so.example.org"]]
    assert ok.id in {r.reviewer_id for r in _rows(database) if r.sent_at is not None}


def test_starttls_required_but_not_offered_sends_nothing_in_clear(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    _reviewer(database, "intake", address="an@so.example.org")
    case = submit_case(database, settings)
    _queue_new_case(database, case.case_id, NOW)
    tls = SmtpSettings(host="127.0.0.1", port=smtp_server.port, starttls=True, sender="a@b.org")
    report = _send(database, tls, LATER)
    assert report.failed == 1 and smtp_server.received == []
    (row,) = _rows(database)
    assert row.last_error is not None and "SMTPNotSupportedError" in row.last_error


def test_gives_up_after_max_attempts_until_an_admin_retries(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    _reviewer(database, "intake", address="an@so.example.org")
    case = submit_case(database, settings)
    _queue_new_case(database, case.case_id, NOW)
    closed = SmtpSettings(host="127.0.0.1", port=free_port(), starttls=False, sender="a@b.org")
    moment = LATER
    for _ in range(outbox.MAX_ATTEMPTS):
        assert _send(database, closed, moment).failed == 1
        moment += timedelta(hours=3)
    assert _send(database, closed, moment).failed == 0  # given up
    with database.read_session() as db:
        (entry,) = outbox.failed_notifications(db)
    assert entry.gave_up and entry.attempts == outbox.MAX_ATTEMPTS
    with database.session() as db:
        assert outbox.retry_failed(db, moment) == 1
    assert _send(database, _smtp(settings), moment).sent == 1
    assert len(smtp_server.received) == 1


def test_no_mail_to_who_can_no_longer_read(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    leaving = _reviewer(database, "intake", address="leaving@so.example.org")
    recusing = _reviewer(database, "intake", address="recusing@so.example.org")
    stays = _reviewer(database, "intake", address="stays@so.example.org")
    case = submit_case(database, settings)
    _queue_new_case(database, case.case_id, NOW)
    with database.session() as db:
        db.execute(update(Reviewer).where(Reviewer.id == leaving.id).values(active=False))
        db.add(Recusal(case_id=case.case_id, reviewer_id=recusing.id))
    report = _send(database, _smtp(settings), LATER)
    assert (report.sent, report.dropped) == (1, 2)
    assert [m.recipients for m in smtp_server.received] == [["stays@so.example.org"]]
    assert [r.reviewer_id for r in _rows(database)] == [stays.id]


def test_purged_cases_and_old_rows_are_pruned(database: Database, settings: Settings) -> None:
    _reviewer(database, "intake", address="an@so.example.org")
    case = submit_case(database, settings)
    _queue_new_case(database, case.case_id, NOW)
    with database.session() as db:
        db.add(
            Notification(
                kind=NotificationKind.OVERDUE.value,
                reviewer_id=db.scalar(select(Reviewer.id)),
                case_id="f" * 32,  # a case that was purged
                deadline="acknowledge",
                sent_at=NOW,
            )
        )
    with database.session() as db:
        assert outbox.prune(db, LATER) == 1
        assert db.scalar(select(func.count(Notification.id))) == 1
        assert outbox.forget_case(db, case.case_id) == 1
        assert db.scalar(select(func.count(Notification.id))) == 0
