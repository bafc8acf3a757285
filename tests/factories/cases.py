"""Cases for tests, in three depths (the one place tests make them):

- :func:`insert_cases` with :func:`case_row`: rows straight into ``cases`` (no keys, no
  blobs) for queries that only look at columns - the inbox, the statistics;
- :func:`submit_case`: a real case through the domain layer, as the no-JavaScript intake
  stores it (keys, encrypted answers, attachments); :func:`case_with_thread` adds a
  reviewer message and a note;
- :func:`send_case`: a report sent through the intake's no-JavaScript form over HTTP,
  as a reporter does (:func:`send_report` and :func:`report_answers` are its parts).
"""

from __future__ import annotations

import io
import itertools
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update

from app import clock
from app.cases import unit_of_work
from app.database import Database
from app.models import Blob, Case, CaseLink, Message, ProtectionRequest, Unit
from app.models.cases import new_message_id
from app.models.vocabulary import BlobKind, Side
from config import Settings
from tests.conftest import CsrfClient
from tests.factories.accounts import ReviewerKeys

if TYPE_CHECKING:
    from app.cases.identity import IdentityFields
    from app.cases.payloads import AttachmentMeta
    from app.cases.submission import CaseChoices, ServerCaseKeys
    from app.storage import BlobStore, PendingBlob
    from crypto import Recipient


@dataclass(frozen=True)
class SubmittedCase:
    case_id: str
    receipt: str


def submit_case(
    database: Database,
    settings: Settings,
    *,
    category: str = "corruption",
    sector: str = "health",
    summary: str = "Tóm tắt",
    details: str = "Chi tiết vụ việc",
    excluded: tuple[str, ...] = (),
    attachments: list[tuple[bytes, AttachmentMeta]] | None = None,
    identity: IdentityFields | None = None,
) -> SubmittedCase:
    """A case as the no-JavaScript intake stores it, through the domain layer, with
    ``attachments`` (content, metadata) encrypted as the intake leaves them (a named
    denunciation with ``identity``)."""
    from app.cases.submission import CaseChoices

    submitted, _keys = store_case(
        database,
        settings,
        choices=CaseChoices(category, sector, excluded),
        answers={"category": category, "summary": summary, "details": details},
        attachments=attachments or [],
        identity=identity,
    )
    return submitted


def store_case(
    database: Database,
    settings: Settings,
    *,
    choices: CaseChoices,
    answers: dict[str, str | list[str]],
    attachments: list[tuple[bytes, AttachmentMeta]],
    identity: IdentityFields | None = None,
) -> tuple[SubmittedCase, ServerCaseKeys]:
    """:func:`submit_case` with the questionnaire's answers as given; also returns the
    case's keys, to encrypt later files to it."""
    from app.cases.submission import (
        ReceiptSettings,
        ServerCaseKeys,
        UploadedAttachment,
        submit_from_server,
    )
    from app.storage import BlobStore
    from config import load_secrets

    store = BlobStore(settings.blob_path)
    keys = ServerCaseKeys()
    receipts = ReceiptSettings.from_config(
        load_secrets(settings.secrets_file).receipt_salt, settings.receipt_kdf
    )
    with unit_of_work.transaction(database.sessionmaker) as db:
        receipt, stored = submit_from_server(
            db,
            store,
            receipts,
            keys=keys,
            choices=choices,
            answers=answers,
            attachments=[
                UploadedAttachment(encrypted_upload(store, keys.case_recipient, data), meta)
                for data, meta in attachments
            ],
            deadlines=settings.deadlines,
            identity=identity,
        )
    return SubmittedCase(stored.case_id, receipt), keys


def encrypted_upload(store: BlobStore, recipient: Recipient, data: bytes) -> PendingBlob:
    """An attachment as the intake leaves it after streaming: a pending age blob."""
    from crypto import AgeWriter

    pending = store.create()
    with AgeWriter(pending, [recipient]) as writer:  # type: ignore[arg-type]
        writer.write(data)
    return pending


def case_with_thread(
    database: Database,
    settings: Settings,
    member: ReviewerKeys,
    *,
    choices: CaseChoices,
    answers: dict[str, str | list[str]],
    report_files: list[tuple[bytes, AttachmentMeta]],
    message: str,
    message_files: list[tuple[bytes, AttachmentMeta]],
) -> str:
    """A case with report attachments, a reviewer message with attachments and a note,
    stored through the domain layer. Returns the case id."""
    from app.cases.access import load_actor
    from app.cases.messages import add_message_from_server
    from app.cases.notes import add_note
    from app.models.vocabulary import Side
    from app.storage import BlobStore

    stored, keys = store_case(
        database, settings, choices=choices, answers=answers, attachments=report_files
    )
    store = BlobStore(settings.blob_path)
    with unit_of_work.transaction(database.sessionmaker) as db:
        case = db.get(Case, stored.case_id)
        assert case is not None
        add_message_from_server(
            db,
            store,
            case=case,
            side=Side.REVIEWER,
            author_id=member.id,
            text=message,
            attachments=[
                (encrypted_upload(store, keys.case_recipient, data), meta)
                for data, meta in message_files
            ],
        )
    with unit_of_work.transaction(database.sessionmaker) as db:
        case = db.get(Case, stored.case_id)
        assert case is not None
        add_note(db, store, load_actor(db, member.id, member.identity), case, "Ghi chú nội bộ")
    return stored.case_id


# -- rows straight into the table ----------------------------------------------------------

# Direct rows use year 1999 in their references, so they never meet the numbers the
# intake hands out (its counter starts at 1 for the current year).
_numbers = itertools.count(1)
ROW_DAY = date(2026, 6, 15)


def unit_ids(database: Database) -> dict[str, int]:
    with database.read_session() as db:
        return {slug: id_ for slug, id_ in db.execute(select(Unit.slug, Unit.id)).all()}


def case_row(unit_id: int, **overrides: Any) -> dict[str, Any]:
    """The columns of one case, inserted straight into the table (no blobs, no keys:
    for queries that never look at them)."""
    number = next(_numbers)
    values: dict[str, Any] = {
        "id": secrets.token_hex(16),
        "reference": f"CT-1999-{number:05d}",
        "ref_year": 1999,
        "ref_number": number,
        "receipt_lookup_key": secrets.token_bytes(32),
        "reporter_recipient": "age1reporter",
        "case_recipient": "age1case",
        "staff_recipient": "age1staff",
        "category": "corruption",
        "sector": "health",
        "status": "new",
        "priority": "normal",
        "holding_unit_id": unit_id,
        "created_day": ROW_DAY,
        "legal_hold": False,
    }
    values.update(overrides)
    return values


def hold_case(database: Database, case_id: str, unit_slug: str) -> None:
    """The case is now held by ``unit_slug``, as after routing, but with its key wraps
    left as they were: for tests of who may see it (the SQL rule), not of the keys."""
    with database.session() as db:
        unit_id = db.scalars(select(Unit.id).where(Unit.slug == unit_slug)).one()
        db.execute(update(Case).where(Case.id == case_id).values(holding_unit_id=unit_id))


def insert_links(database: Database, pairs: list[tuple[str, str]], kind: str = "duplicate") -> None:
    """Link rows straight into ``case_links`` (no reason blob): for the counts."""
    with database.session() as db:
        for a, b in pairs:
            first, second = sorted((a, b))
            db.add(CaseLink(case_id=first, other_case_id=second, kind=kind, created_day=ROW_DAY))


def insert_cases(database: Database, rows: list[dict[str, Any]]) -> list[str]:
    with database.session() as db:
        db.execute(insert(Case), rows)
    return [row["id"] for row in rows]


def insert_protection_request(
    database: Database,
    case_id: str,
    filed_day: date,
    due_day: date,
    *,
    answered_day: date | None = None,
) -> int:
    """A reporter's message flagged as a protection request, straight into the tables
    (no text: for queries on its due day); answered on ``answered_day`` if given."""
    with database.session() as db:
        message = Message(
            id=new_message_id(),
            case_id=case_id,
            author_side=Side.REPORTER.value,
            created_at=clock.day_stamp(filed_day),  # a reporter's day, never a time
        )
        db.add(message)
        db.flush()
        db.add(
            ProtectionRequest(
                message_id=message.id,
                case_id=case_id,
                filed_day=filed_day,
                due_day=due_day,
                answered_at=datetime.combine(answered_day, time(9), UTC) if answered_day else None,
            )
        )
        return message.id


# -- through the intake's form, as a reporter ---------------------------------------------

RECEIPT_PATTERN = re.compile(r'id="receipt-code">(\d{4} \d{4} \d{4} \d{4} \d{4})<')


def report_answers(**overrides: str | list[str]) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "category": "corruption",
        "sector": "land_construction",
        "summary": "Cán bộ phường đòi tiền để ký giấy phép xây dựng",
        "details": "Ông A, cán bộ địa chính, yêu cầu 20 triệu đồng để ký hồ sơ.",
        "location": "Phường An Hòa, quận Ninh Kiều",
    }
    answers.update(overrides)
    return answers


def send_report(
    client: CsrfClient,
    answers: dict[str, Any] | None = None,
    files: list[tuple[bytes, str]] | None = None,
    excluded: list[str] | None = None,
) -> Any:
    data: dict[str, Any] = dict(answers if answers is not None else report_answers())
    if files:
        data["attachments"] = [(io.BytesIO(content), name) for content, name in files]
    if excluded:
        data["excluded_units"] = excluded
    return client.submit("/report", data, content_type="multipart/form-data")


def receipt_from(response: Any) -> str:
    match = RECEIPT_PATTERN.search(response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)[:2000]
    return match.group(1)


def open_case(client: CsrfClient, receipt: str) -> Any:
    """Type ``receipt`` into the follow-up form and send it, as a reporter does."""
    return client.submit("/followup", {"receipt": receipt})


def send_protection_request(
    client: CsrfClient, text: str, files: list[tuple[bytes, str]] | None = None
) -> Any:
    """On the open follow-up page, send ``text`` with the box "this is a protection
    request" ticked, through the form without JavaScript."""
    page = client.get("/followup/case").get_data(as_text=True)
    after = re.search(r'name="after" value="(\d*)"', page)
    data: dict[str, Any] = {
        **client.hidden_fields("/followup/case"),
        "body": text,
        "protection": "yes",
        "after": after.group(1) if after else "",
    }
    if files:
        data["attachments"] = [(io.BytesIO(content), name) for content, name in files]
    return client.post("/followup/message", data=data, content_type="multipart/form-data")


@dataclass(frozen=True)
class Report:
    receipt: str
    case_id: str
    canary: str
    reference: str
    attachment_ids: list[str] = field(default_factory=list)
    attachment_canary: str | None = None
    attachment_name: str | None = None


def case_ids(database: Database) -> set[str]:
    with database.read_session() as db:
        return set(db.scalars(select(Case.id)).all())


def send_case(
    intake_client: CsrfClient,
    database: Database,
    *,
    attachment: bool = False,
    excluded: list[str] | None = None,
    answers: dict[str, str] | None = None,
) -> Report:
    """Send a report through the intake's no-JavaScript form; find its case.
    ``answers`` overrides the form's fields (``category``, ``summary``...)."""
    tag = secrets.token_hex(6)
    canary = f"CANARY-REPORT-{tag}"
    files = None
    attachment_canary = attachment_name = None
    if attachment:
        attachment_canary = f"CANARY-FILE-{tag}"
        attachment_name = f"bien-ban-{tag}.txt"
        files = [(f"Bien ban. {attachment_canary}\n".encode() * 50, attachment_name)]
    before = case_ids(database)
    response = send_report(
        intake_client,
        report_answers(
            **{
                **(answers or {}),
                "details": f"{(answers or {}).get('details', 'Ông A đòi 20 triệu đồng.')} {canary}",
            }
        ),
        files=files,
        excluded=excluded,
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    receipt = receipt_from(response)
    (case_id,) = case_ids(database) - before
    with database.read_session() as db:
        case = db.get(Case, case_id)
        assert case is not None
        blobs = db.scalars(
            select(Blob.id)
            .where(Blob.case_id == case_id, Blob.kind == BlobKind.ATTACHMENT.value)
            .order_by(Blob.position)
        ).all()
        reference = case.reference
    assert len(blobs) == (1 if attachment else 0)
    return Report(
        receipt=receipt,
        case_id=case_id,
        canary=canary,
        reference=reference,
        attachment_ids=list(blobs),
        attachment_canary=attachment_canary,
        attachment_name=attachment_name,
    )


# -- at the reception desk, as a desk officer (app/review/desk.py) ---------------------------

CITIZEN = {
    "identity_full_name": "Lê Thị Ủy",
    "identity_id_number": "092187005678",
    "identity_address": "Số 12 đường Nguyễn Trãi, phường Cái Khế, Cần Thơ",
    "identity_contact": "0907 654 321",
}
LETTER_NAME = "đơn tố cáo.pdf"


def desk_form(
    *,
    channel: str = "in_person",
    named: bool = False,
    letter: bytes | None = None,
    **answers: str | list[str],
) -> dict[str, Any]:
    """What the desk form posts: the channel, the track (with the citizen's identity when
    ``named``), the questionnaire's answers and, with ``letter``, a scan of the letter."""
    data: dict[str, Any] = {"channel": channel, **report_answers(**answers)}
    data["track"] = "named" if named else "anonymous"
    if named:
        data.update(CITIZEN)
    if letter is not None:
        data["attachments"] = [(io.BytesIO(letter), LETTER_NAME)]
    return data
