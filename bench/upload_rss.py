"""Peak RSS growth of the gunicorn worker during a 1 GB upload through the no-JavaScript
intake path (``POST /report``, encrypted while it streams in).

Not a test. Run from the repository root:

    .venv/bin/python bench/upload_rss.py [--size-mb 1000]

A fresh installation (SQLite, default Argon2id costs, ``LIEMCHINH_MAX_FILE_BYTES`` and
``LIEMCHINH_MAX_REPORT_BYTES`` raised to 2 GiB for the run) is served by
``gunicorn -c config/gunicorn.py --workers 1`` on loopback (one worker, so the upload
certainly lands in the process being watched). The worker is warmed up with one normal
submission (100 KB attachment), then its ``VmRSS`` is read from ``/proc/<pid>/status``.
The upload is one multipart body with the form fields and one ``--size-mb`` MB
attachment, sent with a ``Content-Length`` header from a generator yielding 1 MiB slices
of one random buffer, so the client never holds the file. During the upload ``VmRSS`` of
the worker is sampled every 50 ms; after it, ``VmHWM`` (the kernel's peak RSS) is read.

Growth = max(VmHWM after, highest sample) - VmRSS before. The upload must succeed (200
with a receipt), and the stored attachment blob must be an age file of about the
upload's size (ciphertext: plaintext + 16 bytes per 64 KiB chunk + header).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    REPORT_FIELDS,
    Browser,
    add_key_only_reviewer,
    bench_line,
    gunicorn,
    installation_in_tempdir,
    machine_description,
    multipart_head_and_tail,
    receipt_in,
)
from sqlalchemy import select

from app.models import Blob
from app.models.vocabulary import BlobKind

TARGET_MB = 100.0
SLICE = 1024 * 1024


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def body_stream(head: bytes, size: int, tail: bytes) -> Iterator[bytes]:
    block = secrets.token_bytes(SLICE)
    yield head
    left = size
    while left > 0:
        n = min(SLICE, left)
        yield block if n == SLICE else block[:n]
        left -= n
    yield tail


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1000, help="attachment size, 10^6 bytes")
    args = parser.parse_args()
    size = args.size_mb * 1000 * 1000
    print(f"machine: {machine_description()}")
    limit = str(2 * 1024**3)
    env = {
        "LIEMCHINH_MAX_FILE_BYTES": limit,
        "LIEMCHINH_MAX_REPORT_BYTES": limit,
        "LIEMCHINH_INTAKE_RATE_LIMIT": "1000 per minute",
    }
    with installation_in_tempdir(env) as inst:
        add_key_only_reviewer(inst.database, "intake")
        with gunicorn(inst.env, "wsgi:intake_app", workers=1) as server:
            (worker,) = server.worker_pids()
            browser = Browser(server.port, timeout=600)
            # Warm-up: one ordinary submission (imports, templates, first connection).
            tokens = browser.form_tokens()
            head, tail, ctype = multipart_head_and_tail(
                {**REPORT_FIELDS, **tokens}, "attachments", "warm.pdf", "application/pdf"
            )
            status, html = browser.request(
                "POST",
                "/report",
                body=head + secrets.token_bytes(100_000) + tail,
                headers={"Content-Type": ctype},
            )
            if status != 200 or not receipt_in(html):
                raise RuntimeError(f"warm-up submission failed: {status}")
            tokens = browser.form_tokens()
            before_rss = status_kib(worker, "VmRSS")
            before_hwm = status_kib(worker, "VmHWM")
            samples: list[int] = []
            done = threading.Event()

            def sample() -> None:
                while not done.is_set():
                    try:
                        samples.append(status_kib(worker, "VmRSS"))
                    except (OSError, RuntimeError):
                        return
                    done.wait(0.05)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            head, tail, ctype = multipart_head_and_tail(
                {**REPORT_FIELDS, **tokens}, "attachments", "video.mp4", "video/mp4"
            )
            length = len(head) + size + len(tail)
            start = time.perf_counter()
            status, html = browser.request(
                "POST",
                "/report",
                body=body_stream(head, size, tail),
                headers={"Content-Type": ctype, "Content-Length": str(length)},
            )
            elapsed = time.perf_counter() - start
            done.set()
            sampler.join(timeout=5)
            after_rss = status_kib(worker, "VmRSS")
            after_hwm = status_kib(worker, "VmHWM")
            browser.close()
        receipt = receipt_in(html) if status == 200 else None
        with inst.database.read_session() as db:
            blob = db.scalars(
                select(Blob)
                .where(Blob.kind == BlobKind.ATTACHMENT.value)
                .order_by(Blob.size.desc())
                .limit(1)
            ).first()
            stored_size = blob.size if blob else 0
            blob_path = (
                next(inst.settings.blob_path.rglob(Path(blob.storage_key).name), None)
                if blob
                else None
            )
        on_disk = blob_path.stat().st_size if blob_path else 0
        with open(blob_path, "rb") if blob_path else open(os.devnull, "rb") as fh:
            magic = fh.read(21)
    peak_kib = max([after_hwm, *samples])
    growth_mb = (peak_kib - before_rss) / 1024
    print(
        f"upload of {size / 1e9:.2f} GB ({length} bytes on the wire) in {elapsed:.1f} s "
        f"({size / 1e6 / elapsed:.0f} MB/s): status {status}, receipt "
        f"{'shown' if receipt else 'MISSING'}"
    )
    print(
        f"stored attachment blob: {stored_size} bytes in the database, {on_disk} bytes on "
        f"disk, starts with {magic!r}; overhead {on_disk - size} bytes"
    )
    print(
        f"worker {worker}: VmRSS before {before_rss / 1024:.1f} MiB "
        f"(VmHWM {before_hwm / 1024:.1f}),"
        f" highest sample {max(samples or [0]) / 1024:.1f} MiB ({len(samples)} samples), "
        f"after {after_rss / 1024:.1f} MiB, VmHWM after {after_hwm / 1024:.1f} MiB"
    )
    ok = (
        status == 200
        and receipt is not None
        and magic.startswith(b"age-encryption.org/v1")
        and size <= on_disk <= size + size // 1000 + 65536
    )
    verdict = "met" if growth_mb < TARGET_MB and ok else "MISSED"
    if not ok:
        print("upload check FAILED (status, receipt or stored ciphertext)")
    print(f"peak RSS growth {growth_mb:.1f} MB (target < {TARGET_MB:.0f} MB): {verdict}")
    print(bench_line("upload_peak_rss_mb", growth_mb, "MB", digits=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
