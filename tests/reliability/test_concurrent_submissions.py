"""200 no-JavaScript submissions from 20 concurrent reporters against a real gunicorn
(2 workers, config/gunicorn.py), on SQLite and on PostgreSQL.

Each reporter is a thread with its own cookie jar (stdlib http.client only): it loads
/report for the CSRF token and the one-time form nonce, then posts the form with a small
attachment, as Tor Browser at "Safest" does. Afterwards every receipt shown opens its
case, no response was a 5xx, and the installation holds exactly 200 cases, 400 blobs
(report + attachment each) with their files, and references numbered 1..200 without
a gap.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select

from app.database import Database
from app.models import Blob, Case
from config import Settings
from tests.factories import make_reviewer
from tests.reliability.harness import (
    HIGH_RATE_LIMIT,
    Browser,
    GunicornServer,
    assert_store_consistent,
    count_rows,
    report_answers,
)

CLIENTS = 20
PER_CLIENT = 10
TOTAL = CLIENTS * PER_CLIENT
TIME_BUDGET_S = 120.0


def _reporter(port: int, client: int, deadline: float) -> list[tuple[int, str | None]]:
    """One browser sending PER_CLIENT reports: [(status, receipt or None)]."""
    browser = Browser(port, timeout=60)
    results: list[tuple[int, str | None]] = []
    for i in range(PER_CLIENT):
        if time.monotonic() > deadline:
            break
        evidence = f"client {client} report {i} ".encode() * 500  # ~10 KB
        reply = browser.submit_report(
            report_answers(details=f"Báo cáo số {i} của người dân {client}: nhận hối lộ."),
            files=[("attachments", f"bang-chung-{client}-{i}.pdf", evidence)],
        )
        results.append((reply.status, reply.receipt()))
    return results


@pytest.mark.slow
@pytest.mark.both_backends
def test_200_concurrent_submissions_all_open(
    env: dict[str, str], database: Database, settings: Settings, tmp_path: Path
) -> None:
    make_reviewer(database, "intake")
    server_env = {**env, "LIEMCHINH_INTAKE_RATE_LIMIT": HIGH_RATE_LIMIT}
    with GunicornServer(server_env, tmp_path / "gunicorn.log", workers=2) as server:
        deadline = time.monotonic() + TIME_BUDGET_S
        with ThreadPoolExecutor(CLIENTS) as pool:
            futures = [pool.submit(_reporter, server.port, c, deadline) for c in range(CLIENTS)]
            results = [r for f in futures for r in f.result(timeout=TIME_BUDGET_S + 60)]

        statuses = sorted({status for status, _ in results})
        assert len(results) == TOTAL, f"only {len(results)} submissions in {TIME_BUDGET_S}s"
        assert all(status < 500 for status, _ in results), statuses
        assert statuses == [200], statuses
        receipts = [r for _, r in results if r]
        assert len(receipts) == TOTAL and len(set(receipts)) == TOTAL

        # Every receipt opens its own case (each from a fresh browser, 20 at a time).
        def open_one(receipt: str) -> tuple[str, int, bool]:
            reply = Browser(server.port, timeout=60).open_case(receipt)
            return receipt, reply.status, "Báo cáo số" in reply.text

        with ThreadPoolExecutor(CLIENTS) as pool:
            opened = list(pool.map(open_one, receipts, timeout=TIME_BUDGET_S))
        failed = [(r, status) for r, status, ok in opened if status != 200 or not ok]
        assert failed == []
        log = server.stop()
    assert "Traceback" not in log, log[-4000:]

    assert count_rows(database, Case) == TOTAL
    with database.read_session() as db:
        numbers = sorted(db.scalars(select(Case.ref_number)))
        references = list(db.scalars(select(Case.reference)))
        kinds = list(db.scalars(select(Blob.kind)))
    assert numbers == list(range(1, TOTAL + 1))
    assert len(set(references)) == TOTAL
    assert sorted(kinds) == ["attachment"] * TOTAL + ["report"] * TOTAL
    assert_store_consistent(database, settings)
