"""The named track on the JavaScript path (issue 13 §2): ``GET /api/v1/submission``
lists the custodians; ``POST /api/v1/reports`` takes the identity sealed in the browser.
The test encrypts as assets/js/core.js does, with our own crypto."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import func, select

from app.cases.keys import try_unwrap
from app.database import Database
from app.models import Blob, Case, SealedIdentity
from app.models.vocabulary import BlobKind, Track
from config import Settings
from crypto import AgeError, Identity, Recipient, decrypt_bytes, encrypt_bytes
from tests.factories import ReviewerKeys, make_custodian, make_reviewer
from tests.intake.test_api import BrowserSession, browser, encrypted_report  # noqa: F401

CANARY = "CANARY-api-5b20"


def sealed_identity_parts(info: dict[str, Any]) -> dict[str, Any]:
    """What prepareReport() adds for the named track: the identity file to a fresh key,
    the key wrapped to the custodians and the recovery key."""
    key = Identity.generate()
    fields = (
        '{"v":1,"full_name":"Nguyễn Thị Ủ ' + CANARY + '","id_number":"092187001234",'
        '"address":"Đường Trần Hưng Đạo, phường Ninh Kiều","contact":"0901 234 567"}'
    ).encode()
    readers = [Recipient.parse(r) for r in info["custodian_recipients"]]
    readers.append(Recipient.parse(info["recovery_recipient"]))
    return {
        "track": "named",
        "identity_recipient": str(key.recipient),
        "identity": (io.BytesIO(encrypt_bytes(fields, [key.recipient])), "identity.age"),
        "identity_key_wrap": (
            io.BytesIO(encrypt_bytes(str(key).encode(), readers)),
            "identity_key_wrap.age",
        ),
    }


def _count(database: Database, model: type) -> int:
    with database.read_session() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_named_report_from_the_browser(
    browser: BrowserSession,  # noqa: F811
    database: Database,
    settings: Settings,
    recovery_identity: Identity,
) -> None:
    head = make_reviewer(database, "intake", username="truong-phong-hung")
    make_custodian(database, head, "intake")
    member = make_reviewer(database, "intake", username="le-thi-dieu")
    info = browser.get_info()
    assert info["custodian_recipients"] == [str(head.identity.recipient)]
    data = {**encrypted_report(info, browser.ticket(info)), **sealed_identity_parts(info)}
    response = browser.post_report(data)
    assert response.status_code == 201, response.get_json()
    with database.read_session() as db:
        case = db.scalars(select(Case)).one()
        seal = db.scalars(select(SealedIdentity)).one()
        blob = db.scalars(select(Blob).where(Blob.kind == BlobKind.IDENTITY.value)).one()
    assert case.track == Track.NAMED.value
    sealed_file = (settings.blob_path / blob.storage_key).read_bytes()
    assert try_unwrap(seal.wrap, [member.identity]) is None
    key = try_unwrap(seal.wrap, [head.identity])
    assert key is not None and try_unwrap(seal.wrap, [recovery_identity]) is not None
    assert CANARY in decrypt_bytes(sealed_file, [key]).decode()
    try:
        decrypt_bytes(sealed_file, [member.identity])
        raise AssertionError("an ordinary member decrypted the identity")
    except AgeError:
        pass


def test_named_without_identity_parts_is_refused_whole(
    browser: BrowserSession,  # noqa: F811
    database: Database,
    intake_reviewer: ReviewerKeys,
) -> None:
    info = browser.get_info()
    data = {**encrypted_report(info, browser.ticket(info)), "track": "named"}
    response = browser.post_report(data)
    assert response.status_code == 400
    assert response.get_json()["error"] == "missing_fields"
    assert "identity" in response.get_json()["message"]
    assert _count(database, Case) == 0 and _count(database, Blob) == 0


def test_an_identity_with_the_anonymous_track_is_refused(
    browser: BrowserSession,  # noqa: F811
    database: Database,
    intake_reviewer: ReviewerKeys,
) -> None:
    info = browser.get_info()
    parts = {**sealed_identity_parts(info), "track": "anonymous"}
    response = browser.post_report({**encrypted_report(info, browser.ticket(info)), **parts})
    assert response.status_code == 400
    assert _count(database, Case) == 0 and _count(database, Blob) == 0


def test_a_new_custodian_changes_the_recipients_version(
    browser: BrowserSession,  # noqa: F811
    database: Database,
    intake_reviewer: ReviewerKeys,
) -> None:
    before = browser.get_info()["recipients_version"]
    make_custodian(database, intake_reviewer, "intake")
    assert browser.get_info()["recipients_version"] != before
