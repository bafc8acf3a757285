"""The blob store cannot be written, or is full: the reporter gets a clear error in
Vietnamese (503), nothing is committed and no blob file is left - on the no-JavaScript
form and on the JSON API alike.

- *not writable*: a plain file where the blob directory should be (tests run as root,
  and chmod does not stop root);
- *full*: the blob file handle raises ``OSError(ENOSPC)``, either on the first write (the
  disk is full when the upload starts) or on flush (buffered bytes hit the full disk
  when the blob is made final, just before the commit). The real
  :class:`~app.storage.PendingBlob` code runs above the failing handle.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
from typing import Any

import pytest

from app.database import Database
from app.models import Blob, Case
from app.storage import BlobStore, PendingBlob
from config import Settings
from tests.conftest import CsrfClient
from tests.factories import make_reviewer
from tests.reliability.harness import (
    api_report_parts,
    api_ticket,
    count_rows,
    for_test_client,
    report_answers,
)

VI_STORAGE_ERROR = "Hệ thống hiện không lưu được phản ánh"
VI_API_STORAGE_ERROR = "Hiện chưa thể lưu phản ánh"
PLACEHOLDER = b"not a directory"


class FullDiskHandle:
    """A blob file handle on a full disk: ENOSPC on write, or only on flush."""

    def __init__(self, inner: Any, fail_on: str) -> None:
        self._inner = inner
        self._fail_on = fail_on

    def _enospc(self) -> OSError:
        return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def write(self, data: Any) -> int:
        if self._fail_on == "write":
            raise self._enospc()
        return int(self._inner.write(data))

    def flush(self) -> None:
        if self._fail_on == "flush":
            raise self._enospc()
        self._inner.flush()

    def fileno(self) -> int:
        return int(self._inner.fileno())

    def close(self) -> None:
        self._inner.close()


@pytest.fixture
def reviewer(database: Database) -> None:
    make_reviewer(database, "intake")


def make_full(monkeypatch: pytest.MonkeyPatch, fail_on: str) -> None:
    original = BlobStore.create

    def create(self: BlobStore, limit: int | None = None) -> PendingBlob:
        blob = original(self, limit)
        blob.handle = FullDiskHandle(blob.handle, fail_on)  # type: ignore[assignment]
        return blob

    monkeypatch.setattr(BlobStore, "create", create)


def make_unwritable(settings: Settings) -> None:
    shutil.rmtree(settings.blob_path)
    settings.blob_path.write_bytes(PLACEHOLDER)


def restore(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()
    if settings.blob_path.is_file():
        settings.blob_path.unlink()
        settings.blob_path.mkdir()


def assert_nothing_stored(database: Database, settings: Settings) -> None:
    assert count_rows(database, Case) == 0
    assert count_rows(database, Blob) == 0
    if settings.blob_path.is_file():
        assert settings.blob_path.read_bytes() == PLACEHOLDER
    else:
        assert [p for p in settings.blob_path.rglob("*") if p.is_file()] == []


def assert_clear_html_error(response: Any) -> None:
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert VI_STORAGE_ERROR in html
    assert "Traceback" not in html and "ENOSPC" not in html and "errno" not in html.lower()


FAULTS = ["unwritable", "full_on_write", "full_on_flush"]


def break_store(fault: str, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    if fault == "unwritable":
        make_unwritable(settings)
    else:
        make_full(monkeypatch, fault.removeprefix("full_on_"))


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("with_attachment", [False, True], ids=["no_file", "with_file"])
def test_report_form_when_store_fails(
    intake_client: CsrfClient,
    database: Database,
    settings: Settings,
    reviewer: None,
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
    with_attachment: bool,
) -> None:
    data: dict[str, Any] = dict(report_answers())
    if with_attachment:
        data["attachments"] = [(io.BytesIO(b"%PDF-1.4 evidence " * 5000), "hop-dong.pdf")]
    break_store(fault, settings, monkeypatch)
    response = intake_client.submit("/report", data, content_type="multipart/form-data")
    assert_clear_html_error(response)
    assert_nothing_stored(database, settings)

    # Once the store works again, the same reporter can send the report.
    restore(settings, monkeypatch)
    if with_attachment:
        data["attachments"] = [(io.BytesIO(b"%PDF-1.4 evidence"), "hop-dong.pdf")]
    again = intake_client.submit("/report", data, content_type="multipart/form-data")
    assert again.status_code == 200
    assert count_rows(database, Case) == 1


@pytest.mark.parametrize("fault", FAULTS)
def test_api_report_when_store_fails(
    intake_client: CsrfClient,
    database: Database,
    settings: Settings,
    reviewer: None,
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
) -> None:
    token = intake_client.csrf_token("/report")
    info, ticket = api_ticket(intake_client, token)
    parts = api_report_parts(info, ticket, files=[b"%PDF evidence" * 1000])
    break_store(fault, settings, monkeypatch)
    response = intake_client.post(
        "/api/v1/reports",
        data=for_test_client(parts),
        content_type="multipart/form-data",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 503
    body = response.get_json()
    assert body["error"] == "storage_unavailable"
    assert VI_STORAGE_ERROR in body["message"] or VI_API_STORAGE_ERROR in body["message"]
    assert_nothing_stored(database, settings)
    # The ticket was not used up (no case holds its receipt): the browser may retry
    # with it once the store works.

    restore(settings, monkeypatch)
    retry = intake_client.post(
        "/api/v1/reports",
        data=for_test_client(parts),
        content_type="multipart/form-data",
        headers={"X-CSRFToken": token},
    )
    assert retry.status_code == 201, retry.get_json()
    assert count_rows(database, Case) == 1 and count_rows(database, Blob) == 2
