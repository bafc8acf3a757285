"""Wraps made in the browser are checked against the readers the server expects.

The server cannot see whom an age file is encrypted to. ``GET /api/v1/submission``
hands out a recipients version with the reader sets; the report carries it back, and a
report whose readers changed meanwhile is refused with 409 ``recipients_changed`` and
nothing stored; the browser fetches the readers again and re-wraps (tests/js).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from app.accounts import reviewers
from app.database import Database
from app.models import Blob, Case, CaseKey, Reviewer
from config import Settings
from crypto import decrypt_bytes
from tests.conftest import CsrfClient
from tests.factories import ReviewerKeys, make_reviewer
from tests.intake.test_api import BrowserSession, encrypted_report


@pytest.fixture
def browser(intake_client: CsrfClient) -> BrowserSession:
    return BrowserSession(intake_client, intake_client.csrf_token("/report"))


def _stored(database: Database) -> tuple[int, int]:
    with database.read_session() as db:
        cases = db.scalar(select(func.count()).select_from(Case)) or 0
        blobs = db.scalar(select(func.count()).select_from(Blob)) or 0
    return int(cases), int(blobs)


def _wraps(database: Database) -> list[bytes]:
    with database.read_session() as db:
        return list(db.scalars(select(CaseKey.wrap)))


def _opens(wrap: bytes, who: ReviewerKeys) -> bool:
    try:
        decrypt_bytes(wrap, [who.identity])
    except Exception:
        return False
    return True


def _join(database: Database, who: ReviewerKeys, *slugs: str) -> None:
    with database.session() as db:
        reviewer = db.get(Reviewer, who.id)
        assert reviewer is not None
        reviewers.set_memberships(db, reviewer, slugs, actor="cli:test")


def test_a_reader_who_joined_an_excluded_unit_is_not_wrapped_in(
    browser: BrowserSession, database: Database, settings: Settings
) -> None:
    """The page was loaded; then an intake reviewer joined the inspectorate, which this
    reporter excludes. The browser's stale sets would wrap the case to them."""
    loyal = make_reviewer(database, "intake", username="ho-thi-uyen")
    mover = make_reviewer(database, "intake", username="dang-van-duc")
    info = browser.get_info()
    ticket = browser.ticket(info)
    _join(database, mover, "intake", "inspection")

    stale = browser.post_report(encrypted_report(info, ticket, excluded=["inspection"]))
    assert stale.status_code == 409
    body: dict[str, Any] = stale.get_json()
    assert body["error"] == "recipients_changed"
    assert "Chưa có gì được lưu" in body["message"]  # Vietnamese: the default
    assert _stored(database) == (0, 0)
    assert [p for p in settings.blob_path.rglob("*") if p.is_file()] == []
    # The ticket is not used up (it is sealed, and no case holds its receipt yet): the
    # same ticket stores the report once it is wrapped for the readers of now.
    fresh = browser.get_info()
    assert fresh["recipients_version"] != info["recipients_version"]
    again = browser.post_report(encrypted_report(fresh, ticket, excluded=["inspection"]))
    assert again.status_code == 201, again.get_json()
    assert _stored(database) == (1, 1)
    for wrap in _wraps(database):
        assert _opens(wrap, loyal)
        assert not _opens(wrap, mover)


def test_a_new_reader_is_not_left_out(browser: BrowserSession, database: Database) -> None:
    make_reviewer(database, "intake", username="nguyen-thi-lan")
    info = browser.get_info()
    ticket = browser.ticket(info)
    newcomer = make_reviewer(database, "intake", username="tran-quoc-bao")
    refused = browser.post_report(encrypted_report(info, ticket))
    assert refused.status_code == 409 and refused.get_json()["error"] == "recipients_changed"
    assert _stored(database) == (0, 0)
    again = browser.post_report(encrypted_report(browser.get_info(), ticket))
    assert again.status_code == 201
    assert all(_opens(wrap, newcomer) for wrap in _wraps(database))


def test_an_unchanged_set_keeps_its_version_and_english_is_served(
    browser: BrowserSession, database: Database
) -> None:
    make_reviewer(database, "intake")
    first, second = browser.get_info(), browser.get_info()
    assert first["recipients_version"] == second["recipients_version"]
    assert len(first["recipients_version"]) == 64
    ticket = browser.ticket(first)
    make_reviewer(database, "investigation")  # an excludable unit's readers changed
    browser.client.get("/report?lang=en")
    data = encrypted_report(first, ticket)
    refused = browser.post_report(data)
    assert refused.status_code == 409
    assert "changed while you were writing" in refused.get_json()["message"]
    missing = encrypted_report(browser.get_info(), ticket)
    del missing["recipients_version"]
    response = browser.post_report(missing)
    assert response.status_code == 400 and "recipients_version" in response.get_json()["message"]
