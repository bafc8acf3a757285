"""``attachment.downloaded`` is in the audit log only for a download that was sent: a
file that cannot be read (damaged, encrypted to another key, or missing from the
store) gets the app's error page and leaves no such event."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from app.database import Database
from app.models import Blob
from config import Settings
from crypto import Identity, encrypt_bytes
from tests.review.conftest import ReportFactory, StaffFactory, audit_actions

EN_UNREADABLE = "This file cannot be read"


def _blob_path(database: Database, settings: Settings, blob_id: str) -> Path:
    with database.read_session() as db:
        key = db.scalars(select(Blob.storage_key).where(Blob.id == blob_id)).one()
    return settings.blob_path / key


def _downloads(database: Database, case_id: str) -> int:
    return audit_actions(database, case_id).count("attachment.downloaded")


@pytest.mark.parametrize("damage", ["other_key", "garbage", "missing"])
def test_downloaded_is_recorded_only_for_a_file_that_was_sent(
    staff: StaffFactory,
    report: ReportFactory,
    database: Database,
    settings: Settings,
    damage: str,
) -> None:
    hana = staff("hana", "intake")
    sent = report(attachment=True)
    url = f"/cases/{sent.case_id}/attachments/{sent.attachment_ids[0]}"

    good = hana.client.get(url)
    assert good.status_code == 200
    assert sent.attachment_canary and sent.attachment_canary.encode() in good.data
    assert _downloads(database, sent.case_id) == 1  # positive control

    path = _blob_path(database, settings, sent.attachment_ids[0])
    if damage == "other_key":
        path.write_bytes(encrypt_bytes(b"Bien ban", [Identity.generate().recipient]))
    elif damage == "garbage":
        path.write_bytes(b"age-encryption.org/v1\n-> X25519 broken\n")
    else:
        path.unlink()
    refused = hana.client.get(url)
    assert refused.status_code == 500
    html = refused.get_data(as_text=True)
    assert EN_UNREADABLE in html and "<html" in html
    assert "Content-Disposition" not in refused.headers
    assert _downloads(database, sent.case_id) == 1
