"""A gunicorn worker killed with SIGKILL in the middle of a large no-JavaScript upload.

The upload is encrypted into ``blobs/tmp/<id>.partial`` while it streams in. Killing the
worker part-way must leave no case row and no blob row; the partial file may stay behind
(nobody was alive to remove it) and the sweep for stale partials and orphaned blob
files removes it. Gunicorn starts a new worker, and the next submission works.

The sweep is ``app.cases.retention.sweep`` (what ``purge`` runs), called with a clock
moved past its grace periods (the partial file is seconds old, not six hours).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import time
from datetime import timedelta
from pathlib import Path

import pytest

from app.cases import unit_of_work
from app.cases.retention import ORPHAN_GRACE, PARTIAL_GRACE, sweep
from app.database import Database
from app.models import Blob, Case, utcnow
from app.storage import BlobStore
from config import Settings
from tests.factories import make_reviewer
from tests.reliability.harness import (
    HIGH_RATE_LIMIT,
    Browser,
    GunicornServer,
    assert_store_consistent,
    count_rows,
    files_in_store,
    report_answers,
)

UPLOAD_BYTES = 30 * 1024 * 1024
CHUNK = 256 * 1024
# Kill once this much ciphertext reached the partial file: well into the upload.
KILL_AFTER_BYTES = 2 * 1024 * 1024


def sweep_orphans(database: Database, settings: Settings) -> None:
    """Run the retention sweep as if its grace periods had passed: removes stale partial
    uploads and blob files no row refers to."""
    store = BlobStore(settings.blob_path)
    # A day label is the local day's 00:00 UTC: east of UTC (Cần Thơ, UTC+7) it is up to
    # a day *ahead* of the instant it was set, so the clock moves a day further.
    later = utcnow() + PARTIAL_GRACE + ORPHAN_GRACE + timedelta(days=1, minutes=1)
    with unit_of_work.transaction(database.sessionmaker) as db:
        counts = sweep(db, store, now=later)
    assert counts.orphan_files == 0  # nothing was ever moved to a final name
    assert counts.stale_partials <= 1


def _start_slow_upload(port: int, browser: Browser) -> socket.socket:
    """Open a POST /report whose 30 MB attachment is still streaming: send the form
    fields and the start of the file part, and return the socket (kept open)."""
    hidden = browser.hidden_fields("/report")
    boundary = "----lc" + secrets.token_hex(12)
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in {**hidden, **report_answers()}.items()
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; '
        f'filename="video.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    length = len(head) + UPLOAD_BYTES + len(tail)
    cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(
        (
            "POST /report HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {length}\r\nCookie: {cookie}\r\n\r\n"
        ).encode()
        + head
    )
    return sock


def _partials(settings: Settings) -> list[Path]:
    return files_in_store(settings)[1]


@pytest.mark.slow
def test_worker_killed_mid_upload_leaves_nothing_after_sweep(
    env: dict[str, str], database: Database, settings: Settings, tmp_path: Path
) -> None:
    make_reviewer(database, "intake")
    server_env = {**env, "LIEMCHINH_INTAKE_RATE_LIMIT": HIGH_RATE_LIMIT}
    with GunicornServer(server_env, tmp_path / "gunicorn.log", workers=1) as server:
        (worker,) = server.wait_workers(1)
        sock = _start_slow_upload(server.port, Browser(server.port))
        try:
            sent = 0
            deadline = time.monotonic() + 60
            chunk = os.urandom(CHUNK)
            # Stream slowly until the worker has encrypted a good part of it to disk.
            while True:
                partials = _partials(settings)
                if partials and max(p.stat().st_size for p in partials) >= KILL_AFTER_BYTES:
                    break
                assert time.monotonic() < deadline, "the upload never reached the blob store"
                assert sent + CHUNK < UPLOAD_BYTES, "the whole file went through before the kill"
                sock.sendall(chunk)
                sent += CHUNK
                time.sleep(0.01)
            os.kill(worker, signal.SIGKILL)
            # The connection dies with the worker: the reporter's browser sees an error.
            with pytest.raises(OSError):
                for _ in range(UPLOAD_BYTES // CHUNK):
                    sock.sendall(chunk)
                sock.settimeout(10)
                reply = sock.recv(65536)
                if not reply:
                    raise ConnectionResetError("closed")
        finally:
            sock.close()

        # Gunicorn replaces the worker.
        (new_worker,) = server.wait_workers(1, exclude=[worker])
        assert new_worker != worker

        assert count_rows(database, Case) == 0
        assert count_rows(database, Blob) == 0
        left = _partials(settings)
        assert len(left) <= 1  # the dead worker's partial file (never plaintext)
        for partial in left:
            assert b"age-encryption.org/v1" in partial.read_bytes()[:200]

        sweep_orphans(database, settings)
        assert_store_consistent(database, settings)
        assert not any(p.is_file() for p in settings.blob_path.rglob("*"))

        # The next submission works, on the new worker.
        reply = Browser(server.port).submit_report(
            report_answers(), files=[("attachments", "anh.png", b"\x89PNG" * 1000)]
        )
        assert reply.status == 200, reply.text[:2000]
        receipt = reply.receipt()
        assert receipt
        assert Browser(server.port).open_case(receipt).status == 200
    assert count_rows(database, Case) == 1
    assert count_rows(database, Blob) == 2
    assert_store_consistent(database, settings)
