"""The named track in a real browser (issue 13 §2): the identity typed into the form is
sealed in the browser for the custodians and the recovery key; no request carries it
in clear; an ordinary member's key does not open it, the custodian's does. A missing
identity field stops the page before any request."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.cases.keys import try_unwrap
from app.database import Database
from app.models import Blob, Case, SealedIdentity
from app.models.vocabulary import BlobKind, Track
from config import Settings
from crypto import AgeError, decrypt_bytes
from tests.browser.conftest import (
    RECEIPT,
    BrowserSession,
    Canaries,
    LiveIntake,
    fill_report,
    found_in,
    stored_files,
)
from tests.factories import make_custodian, make_reviewer

pytestmark = pytest.mark.browser

OpenSession = Callable[..., BrowserSession]
NAME_CANARY = "CANARY-browser-danh-tinh-61f0"


def fill_identity(page: Page, *, skip: str | None = None) -> None:
    values = {
        "identity_full_name": f"Nguyễn Thị Ủ {NAME_CANARY}",
        "identity_id_number": "092187001234",
        "identity_address": "Đường Trần Hưng Đạo, phường Ninh Kiều",
        "identity_contact": "0901 234 567",
    }
    page.check('input[name="track"][value="named"]')
    for name, value in values.items():
        if name != skip:
            page.fill(f"#{name}", value)


def test_named_report_is_sealed_in_the_browser(
    open_session: OpenSession, live_intake: LiveIntake, database: Database, settings: Settings
) -> None:
    head = make_reviewer(database, "intake", username="truong-phong-hung")
    make_custodian(database, head, "intake")
    member = make_reviewer(database, "intake", username="le-thi-dieu")
    session = open_session()
    page = session.page
    page.goto("/report")
    fill_report(page, Canaries.new(), attach=False)
    fill_identity(page)
    page.click("#report-form button[type=submit]")
    expect(page.locator("#receipt-code")).to_have_text(re.compile(RECEIPT), timeout=30_000)

    needles = {"name": NAME_CANARY.encode(), "id": b"092187001234"}
    assert found_in(list(session.traffic.bodies()), needles) == set()
    assert found_in([r.body for r in live_intake.recorder.received], needles) == set()
    assert found_in(stored_files(settings).values(), needles) == set()
    with database.read_session() as db:
        case = db.scalars(select(Case)).one()
        seal = db.scalars(select(SealedIdentity)).one()
        blob = db.scalars(select(Blob).where(Blob.kind == BlobKind.IDENTITY.value)).one()
    assert case.track == Track.NAMED.value
    sealed_file = (settings.blob_path / blob.storage_key).read_bytes()
    assert try_unwrap(seal.wrap, [member.identity]) is None
    with pytest.raises(AgeError):
        decrypt_bytes(sealed_file, [member.identity])
    key = try_unwrap(seal.wrap, [head.identity])
    assert key is not None
    assert NAME_CANARY in decrypt_bytes(sealed_file, [key]).decode()  # positive control


def test_a_missing_identity_field_stops_before_any_request(
    open_session: OpenSession, live_intake: LiveIntake, database: Database
) -> None:
    make_reviewer(database, "intake")
    session = open_session()
    page = session.page
    page.goto("/report")
    fill_report(page, Canaries.new(), attach=False)
    fill_identity(page, skip="identity_address")
    page.click("#report-form button[type=submit]")
    expect(page.locator("#js-status")).to_contain_text("điền đủ bốn mục")
    # The page prepares its ticket while the reporter types (issue 16); nothing of the
    # report itself leaves the browser.
    assert session.traffic.posts("/api/v1/reports") == []
    assert {r.url.rsplit("/api/v1", 1)[-1] for r in session.traffic.posts()} <= {"/tickets"}
    with database.read_session() as db:
        assert db.scalars(select(Case)).all() == []
