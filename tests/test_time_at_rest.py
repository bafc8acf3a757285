"""Time at rest (DESIGN.md promise 7): nothing a reporter's action writes dates it below
the calendar day or orders it against the reviewers' actions of that day.

One day of a case, as it happens: a report on each path (the no-JavaScript form, and
the JSON API as the browser sends it), a reviewer's message, the reporter opening the
case by receipt and answering twice (the form with a file named in Vietnamese, then
the API), a reviewer's reply. After every step the whole database is compared with
the step before - every table, reflected, not listed by hand - and every datetime in a
row a reporter's step wrote must be a day label (00:00 UTC of the local day); the
reviewers' steps keep their exact times (the positive control inside the test). Then
every file of the instance folder the day touched, a backup archive, the audit chain
once the day is over, the message ids and the thread's order.

Written to run against the code before this change too (no new module is imported at
module level), where it fails: see the commit message.
"""

from __future__ import annotations

import importlib
import io
import itertools
import json
import os
import re
import tarfile
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import MetaData, select, update
from sqlalchemy import text as text_sql

from app import audit
from app.backup import backup
from app.cases import unit_of_work
from app.cases.access import load_actor
from app.cases.grants import open_case_keys
from app.cases.messages import add_message_from_server, load_thread
from app.cases.notes import add_note
from app.cases.payloads import pad
from app.database import Database
from app.models import AuditEvent, Case, Message, Notification, Reviewer, SealedIdentity
from app.models.vocabulary import KeyKind, Side
from app.storage import BlobStore
from config import Settings
from crypto import Recipient, encrypt_bytes
from tests.conftest import CsrfClient
from tests.factories import (
    ReviewerKeys,
    make_custodian,
    make_reviewer,
    open_case,
    receipt_from,
    report_answers,
    send_report,
)
from tests.reliability.harness import (
    api_report_parts,
    api_ticket,
    for_test_client,
    solved_challenge,
)

pytestmark = pytest.mark.both_backends

# Owned by the floods change (proof of work, tickets, rate limits), which redesigns these
# tables and their time at rest; removed at merge.
# Something that reads as a time of day inside a text column (JSON details, ...).
TIME_IN_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
LEGACY_ID_LIMIT = 2**32
FILE_NAME = "biên bản họp.pdf"


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    # Notifications on: the notices a reporter's action causes are part of the day.
    return {
        **env,
        "LIEMCHINH_SMTP_HOST": "127.0.0.1",
        "LIEMCHINH_SMTP_PORT": "2525",
        "LIEMCHINH_SMTP_FROM": "liemchinh@so.example.org",
        "LIEMCHINH_SMTP_STARTTLS": "off",
    }


# -- what the database holds ---------------------------------------------------------------

Row = dict[str, Any]


def _key(row: Row) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(row.items()))


def snapshot(database: Database) -> dict[str, set[tuple[tuple[str, Any], ...]]]:
    metadata = MetaData()
    metadata.reflect(bind=database.engine)
    out: dict[str, set[tuple[tuple[str, Any], ...]]] = {}
    with database.read_session() as session:
        conn = session.connection()
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            out[table.name] = {_key(dict(r)) for r in conn.execute(select(table)).mappings()}
    return out


def written(
    before: dict[str, set[tuple[tuple[str, Any], ...]]],
    after: dict[str, set[tuple[tuple[str, Any], ...]]],
) -> dict[str, list[Row]]:
    """Rows a step inserted or changed, by table (every table the schema has)."""
    return {
        name: [dict(row) for row in rows - before.get(name, set())]
        for name, rows in after.items()
        if rows - before.get(name, set())
    }


def times_of(rows: dict[str, list[Row]]) -> Iterator[tuple[str, str, datetime]]:
    for table, items in rows.items():
        for row in items:
            for column, value in row.items():
                if isinstance(value, datetime):
                    yield table, column, value


def texts_of(rows: dict[str, list[Row]]) -> Iterator[tuple[str, str, str]]:
    for table, items in rows.items():
        for row in items:
            for column, value in row.items():
                if isinstance(value, str):
                    yield table, column, value


def has_time_of_day(value: datetime) -> bool:
    utc = value.astimezone(UTC) if value.tzinfo else value
    return (utc.hour, utc.minute, utc.second, utc.microsecond) != (0, 0, 0, 0)


def local_day(settings: Settings, moment: datetime | None = None) -> date:
    zone = ZoneInfo(getattr(settings, "timezone", "Asia/Ho_Chi_Minh"))
    return (moment or datetime.now(UTC)).astimezone(zone).date()


@dataclass
class Day:
    """The day's steps, each with the rows it wrote."""

    database: Database
    settings: Settings
    reporter: list[dict[str, list[Row]]] = field(default_factory=list)
    staff: list[dict[str, list[Row]]] = field(default_factory=list)

    def reporter_step(self, action: Callable[[], Any]) -> Any:
        # A day label is the LOCAL day (or a later one, for an expiry): a UTC date would
        # tell whether the action came before or after 07:00 in Vietnam.
        days = {local_day(self.settings)}
        before = snapshot(self.database)
        result = action()
        days.add(local_day(self.settings))
        rows = written(before, snapshot(self.database))
        self.reporter.append(rows)
        timed = [
            f"{table}.{column}={value.isoformat()}"
            for table, column, value in times_of(rows)
            if has_time_of_day(value) or value.date() < min(days)
        ]
        assert timed == [], "a reporter's step wrote a time of day"
        in_text = [
            f"{table}.{column}"
            for table, column, text in texts_of(rows)
            if TIME_IN_TEXT.search(text)
        ]
        assert in_text == [], "a reporter's step wrote a time into text"
        # The notices a reporter causes wait for the day's end; an outbox row written
        # now would be dated by its sequence and its send time.
        assert "notifications" not in rows
        return result

    def staff_step(self, action: Callable[[], Any]) -> Any:
        before = snapshot(self.database)
        result = action()
        rows = written(before, snapshot(self.database))
        self.staff.append(rows)
        # The positive control: a reviewer's action keeps its exact time.
        assert any(has_time_of_day(value) for _t, _c, value in times_of(rows))
        return result


# -- what the files say --------------------------------------------------------------------


def file_times(root: Path) -> dict[Path, os.stat_result]:
    found = {root: root.stat()}
    for path in root.rglob("*"):
        found[path] = path.stat()
    return found


def is_day_label(seconds: float, settings: Settings) -> bool:
    moment = datetime.fromtimestamp(seconds, UTC)
    return not has_time_of_day(moment) and moment.date() in {
        local_day(settings),
        local_day(settings, datetime.now(UTC) - timedelta(minutes=10)),
    }


# -- the day's steps -----------------------------------------------------------------------


def reviewer_message(
    database: Database, settings: Settings, reviewer: ReviewerKeys, case_id: str, text: str
) -> None:
    with unit_of_work.transaction(database.sessionmaker) as db:
        case = db.get(Case, case_id)
        assert case is not None
        add_message_from_server(
            db,
            BlobStore(settings.blob_path),
            case=case,
            side=Side.REVIEWER,
            author_id=reviewer.id,
            text=text,
            attachments=[],
        )


def reviewer_note(
    database: Database, settings: Settings, reviewer: ReviewerKeys, case_id: str
) -> None:
    with unit_of_work.transaction(database.sessionmaker) as db:
        case = db.get(Case, case_id)
        assert case is not None
        actor = load_actor(db, reviewer.id, reviewer.identity)
        add_note(db, BlobStore(settings.blob_path), actor, case, "Ghi chú nội bộ: đã đối chiếu.")


def reviewer_answers_protection(
    database: Database, settings: Settings, reviewer: ReviewerKeys, case_id: str
) -> None:
    from app.cases.protection import answer_request

    with unit_of_work.transaction(database.sessionmaker) as db:
        case = db.get(Case, case_id)
        assert case is not None
        (request_id,) = db.execute(
            text_sql("SELECT message_id FROM protection_requests WHERE case_id = :c"),
            {"c": case_id},
        ).scalars()
        actor = load_actor(db, reviewer.id, reviewer.identity)
        answer_request(
            db, BlobStore(settings.blob_path), actor, case, request_id, "Đã đề nghị bảo vệ."
        )


def clock_module() -> Any:
    """The installation's clock (app.clock), imported late so that this test runs, and
    fails on its assertions, against the code from before it existed."""
    try:
        return importlib.import_module("app.clock")
    except ImportError:
        return types.SimpleNamespace()


def newest_message_id(html: str) -> str | None:
    match = re.search(r'name="after" value="(\d*)"', html)
    return match.group(1) or None if match else None


def test_a_reporters_day_leaves_only_the_day(
    intake_app: Flask,
    database: Database,
    settings: Settings,
    review_app: Flask,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reviewer = make_reviewer(database, "intake", username="nguyễn-thị-đào")
    with database.session() as db:
        db.execute(update(Reviewer).values(email="dao@so.example.org"))
    day = Day(database, settings)
    files_before = file_times(settings.instance_path)
    intake_app.test_client_class = CsrfClient
    reporter = intake_app.test_client()
    browser = intake_app.test_client()
    assert isinstance(reporter, CsrfClient) and isinstance(browser, CsrfClient)

    # 1. A report without JavaScript, with a document named in Vietnamese.
    sent = day.reporter_step(
        lambda: send_report(reporter, files=[(b"%PDF-1.4 bien ban", FILE_NAME)])
    )
    assert sent.status_code == 200
    receipt = receipt_from(sent)
    with database.read_session() as db:
        form_case = db.scalars(select(Case.id)).one()

    # 1b. A named denunciation: its identity sealed for the intake unit's custodian. The
    #     seal's rows and its file are written by the reporter's action too.
    make_custodian(database, reviewer, "intake")
    named = day.reporter_step(
        lambda: send_report(
            reporter,
            {
                **report_answers(),
                "track": "named",
                "identity_full_name": "Trần Thị Ủ",
                "identity_id_number": "092187000123",
                "identity_address": "Đường 30/4, phường Ninh Kiều, Cần Thơ",
                "identity_contact": "0901 234 567",
            },
        )
    )
    assert named.status_code == 200, named.get_data(as_text=True)[:500]
    with database.read_session() as db:
        assert db.scalars(select(SealedIdentity.case_id)).all() != []

    # 2. A report with JavaScript: ticket, then the encrypted parts, as the browser does.
    token = day.reporter_step(lambda: browser.csrf_token("/report"))
    info, ticket = day.reporter_step(lambda: api_ticket(browser, token))
    stored = day.reporter_step(
        lambda: browser.post(
            "/api/v1/reports",
            data=for_test_client(api_report_parts(info, ticket, [b"anh chup hoa don"])),
            content_type="multipart/form-data",
            headers={"X-CSRFToken": token},
        )
    )
    assert stored.status_code == 201, stored.get_json()

    # 3. A reviewer writes to the first reporter (exact time: the positive control).
    day.staff_step(
        lambda: reviewer_message(
            database, settings, reviewer, form_case, "Xin cung cấp thêm biên bản họp."
        )
    )

    # 4. The reporter opens the case by receipt, reads, answers with a file.
    opened = day.reporter_step(lambda: open_case(reporter, receipt))
    assert opened.status_code == 303
    page = day.reporter_step(lambda: reporter.get("/followup/case").get_data(as_text=True))
    assert "Xin cung cấp thêm biên bản họp." in page
    fields = {
        **reporter.hidden_fields("/followup/case"),
        "body": "Dạ, tôi gửi biên bản họp ngày 3/3.",
        "attachments": [(io.BytesIO(b"%PDF-1.4 noi dung"), FILE_NAME)],
    }
    after = newest_message_id(page)
    if after is not None:
        fields["after"] = after
    answered = day.reporter_step(
        lambda: reporter.post("/followup/message", data=fields, content_type="multipart/form-data")
    )
    assert answered.status_code == 303

    # 5. And once more with JavaScript: the message encrypted in the browser, its place
    #    in the thread inside the ciphertext.
    page = day.reporter_step(lambda: reporter.get("/followup/case").get_data(as_text=True))
    assert FILE_NAME in page
    with database.read_session() as db:
        case_recipient = Recipient.parse(db.get(Case, form_case).case_recipient)  # type: ignore[union-attr]
    payload = {
        "version": 1,
        "text": "Thêm một ảnh chụp.",
        "attachments": [],
        "after": newest_message_id(page),
    }
    body = encrypt_bytes(pad(json.dumps(payload, ensure_ascii=False).encode()), [case_recipient])
    api_token = reporter.csrf_token("/followup/case")
    posted = day.reporter_step(
        lambda: reporter.post(
            "/api/v1/followup/messages",
            data={"message": (io.BytesIO(body), "message.age"), **solved_challenge(reporter)},
            content_type="multipart/form-data",
            headers={"X-CSRFToken": api_token},
        )
    )
    assert posted.status_code == 201, posted.get_json()

    # 5b. A protection request / report of retaliation (issue 13 §5), without JavaScript:
    #     its flag row keeps the day it was filed and its due day, no time.
    page = day.reporter_step(lambda: reporter.get("/followup/case").get_data(as_text=True))
    protection = day.reporter_step(
        lambda: reporter.post(
            "/followup/message",
            data={
                **reporter.hidden_fields("/followup/case"),
                "body": "Tôi bị trù dập sau khi phản ánh.",
                "protection": "yes",
                "after": newest_message_id(page) or "",
            },
            content_type="multipart/form-data",
        )
    )
    assert protection.status_code == 303
    (flagged,) = day.reporter[-1]["protection_requests"]
    assert flagged["filed_day"] == local_day(settings)
    assert flagged["due_day"] >= flagged["filed_day"] and flagged["answered_at"] is None

    # Every file the day touched (blob files, their folders, the SQLite files, the
    # instance folder) is dated to the day, never to the request.
    files_after = file_times(settings.instance_path)
    touched = {
        path: stat
        for path, stat in files_after.items()
        if path not in files_before or files_before[path].st_mtime_ns != stat.st_mtime_ns
    }
    assert any(path.suffix == ".age" for path in touched)
    assert {
        str(path.relative_to(settings.instance_path)): datetime.fromtimestamp(
            stat.st_mtime, UTC
        ).isoformat()
        for path, stat in touched.items()
        if not is_day_label(stat.st_mtime, settings)
    } == {}
    # Reading the case back did not leave the time of reading either.
    assert [
        path.name
        for path, stat in touched.items()
        if path.suffix == ".age" and not is_day_label(stat.st_atime, settings)
    ] == []

    # 6. The reviewer answers and notes (exact times).
    day.staff_step(
        lambda: reviewer_message(database, settings, reviewer, form_case, "Cảm ơn, đã nhận.")
    )
    day.staff_step(lambda: reviewer_note(database, settings, reviewer, form_case))
    # The answer to the protection request is a staff action: exact time.
    day.staff_step(lambda: reviewer_answers_protection(database, settings, reviewer, form_case))
    assert any(has_time_of_day(row["answered_at"]) for row in day.staff[-1]["protection_requests"])

    # A backup made now dates every member to the day.

    archive = tmp_path / "backup.tar.gz"
    backup(settings, database, archive)
    with tarfile.open(archive, "r:gz") as tar:
        members = tar.getmembers()
    assert any(m.name.startswith("blobs/") for m in members)
    assert [m.name for m in members if not is_day_label(m.mtime, settings)] == []

    # Message ids: no sequence to order a reporter's message between the reviewers'.
    with database.read_session() as db:
        ids = sorted(db.scalars(select(Message.id).where(Message.case_id == form_case)))
    assert len(ids) == 6
    assert all(i >= LEGACY_ID_LIMIT for i in ids), ids
    assert not any(b - a == 1 for a, b in itertools.pairwise(ids)), ids

    # The thread still reads in the order it was written, whatever the ids.
    with database.read_session() as db:
        case = db.get(Case, form_case)
        assert case is not None
        keys = open_case_keys(db, case, [reviewer.identity])
        thread = load_thread(db, BlobStore(settings.blob_path), form_case, keys[KeyKind.CASE])
    assert [m.text for m in thread] == [
        "Xin cung cấp thêm biên bản họp.",
        "Dạ, tôi gửi biên bản họp ngày 3/3.",
        "Thêm một ảnh chụp.",
        "Tôi bị trù dập sau khi phản ánh.",
        "Cảm ơn, đã nhận.",
        "Đã đề nghị bảo vệ.",
    ]

    # The audit chain holds the reviewers' events of the day, and no reporter event
    # among them: those wait for the day to end.
    with database.read_session() as db:
        chain = list(db.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
    staff_seqs = [e.seq for e in chain if e.actor == f"reviewer:{reviewer.id}"]
    reporter_seqs = [e.seq for e in chain if e.actor == "reporter"]
    assert len(staff_seqs) == 5  # two replies, a note, the protection answer (message, flag)
    assert not [s for s in reporter_seqs if staff_seqs[0] < s < staff_seqs[-1]], (
        "a reporter's event sits between the reviewers' events of the day"
    )

    # The day is over: `audit release` (cron) chains them after every event of the
    # day, each dated to the day, in an order that says nothing; notices are queued.
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    monkeypatch.setattr(clock_module(), "utcnow", lambda: tomorrow, raising=False)
    result = review_app.test_cli_runner().invoke(args=["audit", "release"])
    monkeypatch.undo()
    assert result.exit_code == 0, result.output
    with database.read_session() as db:
        chain = list(db.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        assert audit.verify_chain(db)[1] is None
        notices = db.scalars(select(Notification.kind)).all()
    released = [e for e in chain if e.actor == "reporter"]
    assert sorted(e.action for e in released) == [
        "case.submitted",
        "case.submitted",
        "case.submitted",  # the named denunciation
        "message.from_reporter",
        "message.from_reporter",
        "message.from_reporter",
        "protection.requested",
    ]
    assert min(e.seq for e in released) > max(staff_seqs)
    assert all(not has_time_of_day(e.created_at) for e in released)
    # One notice per reviewer and case: the new case's notice covers its messages.
    assert sorted(notices) == ["new_case", "new_case", "new_case"]
