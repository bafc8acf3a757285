"""E-mail against the insider: the daily audit head to the oversight unit, and notices of
access changes to the members of the unit concerned. Through the real outbox, mailer and
an SMTP server; the mails say which unit and that a change is pending or approved, or
what the head is, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app import audit
from app.accounts import approvals
from app.accounts.approvals import Decider
from app.database import Database
from app.models import AuditEvent, Reviewer
from app.models.vocabulary import Role
from app.notifications import mailer
from config import Settings
from tests.factories import make_account, make_reviewer, totp_key_for
from tests.notifications.conftest import SmtpServer, set_address

pytestmark = pytest.mark.both_backends
REVIEW_URL = "https://review.example.org"


def _send(database: Database, settings: Settings, now: datetime | None = None) -> Any:
    assert settings.smtp is not None
    with database.sessionmaker() as db:
        return mailer.send_pending(db, settings.smtp, REVIEW_URL, now)


def test_the_audit_head_goes_to_the_oversight_unit_once_a_day(
    review_app: Flask, database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    cli = review_app.test_cli_runner()
    chair = make_reviewer(database, "oversight", role=Role.OBSERVER, username="truong-ban")
    member = make_reviewer(database, "oversight", role=Role.OBSERVER, username="uy-vien")
    set_address(database, chair.id, "truong.ban@bcd.cantho.example")
    set_address(database, member.id, "uy.vien@bcd.cantho.example")
    outsider = make_reviewer(database, "intake", username="tiep-nhan")
    set_address(database, outsider.id, "tiep.nhan@so.example")
    with database.read_session() as db:
        head = audit.head(db)

    first = cli.invoke(args=["notify", "audit-head"])
    assert first.exit_code == 0 and "queued for 2" in first.output, first.output
    again = cli.invoke(args=["notify", "audit-head"])  # cron ran twice: nothing more
    assert again.exit_code == 0 and "queued for 0" in again.output, again.output
    assert _send(database, settings).sent == 2
    assert _send(database, settings).sent == 0
    assert sorted(r for m in smtp_server.received for r in m.recipients) == [
        "truong.ban@bcd.cantho.example",
        "uy.vien@bcd.cantho.example",
    ]
    for mail in smtp_server.received:
        assert f"{head.seq} {head.hash}" in mail.body
        assert f'audit verify --head "{head.seq} {head.hash}"' in mail.body
        assert "Đầu chuỗi nhật ký kiểm toán" in mail.body and "audit log" in mail.body
    # The publication is itself in the chain, and the head it sent verifies.
    with database.read_session() as db:
        published = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "audit.head_published")
        ).one()
        assert published.actor.startswith("cli:")
        assert audit.check_head(db, head.seq, head.hash).ok


def test_the_next_day_sends_the_new_head(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    from app.notifications import outbox

    chair = make_reviewer(database, "oversight", role=Role.OBSERVER)
    set_address(database, chair.id, "chu.tich@bcd.example")
    day_one = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    with database.session() as db:
        assert outbox.queue_audit_head(db, [chair.id], "5 " + "a" * 64, now=day_one) == 1
        assert outbox.queue_audit_head(db, [chair.id], "6 " + "b" * 64, now=day_one) == 0
        later = day_one + timedelta(days=1)
        assert outbox.queue_audit_head(db, [chair.id], "9 " + "c" * 64, now=later) == 1
    assert _send(database, settings, day_one + timedelta(days=1, minutes=1)).sent == 2
    bodies = [m.body for m in smtp_server.received]
    assert any("5 " + "a" * 64 in b for b in bodies) and any("9 " + "c" * 64 in b for b in bodies)


def test_members_of_the_unit_are_mailed_about_an_access_change(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    root = make_account(database, settings, "root", role="admin", units=("oversight",))
    hai = make_account(database, settings, "hai", role="admin", units=("oversight",))
    inspector = make_reviewer(database, "inspection", username="thanh-tra-vien")
    other = make_reviewer(database, "investigation", username="dieu-tra-vien")
    newcomer = make_account(database, settings, "nguoi-moi", units=("intake",))
    for who, address in (
        (inspector.id, "thanh.tra@tt.example"),
        (other.id, "dieu.tra@dt.example"),
        (newcomer.id, "nguoi.moi@so.example"),
        (hai.id, "hai@ubnd.example"),
    ):
        set_address(database, who, address)
    reason = "Lý do riêng tư: điều chuyển ông Nguyễn Văn Đức"
    with database.session() as db:
        target = db.get(Reviewer, newcomer.id)
        requester = db.get(Reviewer, root.id)
        assert target is not None and requester is not None
        [asked] = approvals.request_memberships(
            db, Decider.admin(requester), target, ["intake", "inspection"], reason, notify=True
        ).requested
    assert _send(database, settings).sent == 3
    told = sorted(r for m in smtp_server.received for r in m.recipients)
    # The unit's members, the person concerned and the admins; not another unit.
    assert told == ["hai@ubnd.example", "nguoi.moi@so.example", "thanh.tra@tt.example"]
    for mail in smtp_server.received:
        assert "Thanh tra thành phố" in mail.body and "City Inspectorate" in mail.body
        assert "đang chờ" in mail.body and "waiting for a second administrator" in mail.body
        raw = mail.message.as_string()
        for secret in (reason, "nguoi-moi", "root"):
            assert secret not in raw
    smtp_server.received.clear()
    with database.session() as db:
        approver = db.get(Reviewer, hai.id)
        assert approver is not None
        approvals.approve(
            db,
            asked.id,
            Decider.admin(approver),
            password_kdf=settings.password_kdf,
            totp_key=totp_key_for(settings),
            notify=True,
        )
    assert _send(database, settings).sent == 3
    assert all("was approved" in m.body for m in smtp_server.received)
