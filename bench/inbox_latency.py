"""p95 server time of the reviewer inbox at 100,000 cases.

Not a test. Run from the repository root:

    .venv/bin/python bench/inbox_latency.py [--cases 100000] [--requests 40]

A fresh installation (SQLite, default Argon2id costs) is seeded with ``--cases`` cases
by bulk INSERTs (see ``bench/_common.py``): spread over the four units (intake 40 %,
inspection 30 %, investigation 22 %, oversight 8 %) and their statuses, created over
three years, with reporter messages on ~30 % of cases (a quarter unread) and a few
reporter exclusions. A real reviewer account (password + TOTP, default Argon2id) is made
through ``app.accounts.reviewers.create_reviewer`` as a member of the intake unit, and
logs in through the review app's two login steps with the Flask test client, CSRF on, so
the session holds their unwrapped key like in production.

Each request is a full ``GET /inbox?...`` through the Flask test client (WSGI app,
server-side session load, the pending-grant check, the inbox queries, template
rendering), timed with ``perf_counter`` around ``client.get``. Variants: first page
unfiltered; status=triage; category=waste; overdue=1; sort=deadline. Each variant gets
warm-up requests, then ``--requests`` timed requests, interleaved across variants.
The figure is the p95 of all timed requests (nearest rank); p50/p95 per variant, the
domain call ``inbox_page`` alone, the time per SQL statement, and SQLite's
``EXPLAIN QUERY PLAN`` for each statement are printed too.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    bench_line,
    installation_in_tempdir,
    machine_description,
    median,
    percentile,
    seed_cases,
)
from sqlalchemy import event

from app.accounts import reviewers, totp
from app.accounts.totp import TotpKey
from app.cases.access import load_actor
from app.cases.inbox import InboxFilters, inbox_page
from app.factory import create_review_app
from config import load_secrets

TARGET_MS = 50.0
PASSWORD = "bench: correct horse battery staple 42"  # noqa: S105 - throwaway account
VARIANTS = {
    "first page": "/inbox",
    "status=triage": "/inbox?status=triage",
    "category=waste": "/inbox?category=waste",
    "overdue": "/inbox?overdue=1",
    "sort=deadline": "/inbox?sort=deadline",
}
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf(client: Any, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = _CSRF.search(html)
    if not match:
        raise RuntimeError(f"no csrf_token on {path}")
    return match.group(1)


def login(client: Any, username: str, secret: str) -> None:
    first = client.post(
        "/login",
        data={"csrf_token": csrf(client, "/login"), "username": username, "password": PASSWORD},
    )
    if first.status_code != 302 or not first.headers["Location"].endswith("/login/totp"):
        raise RuntimeError(f"password step failed: {first.status_code}")
    second = client.post(
        "/login/totp",
        data={
            "csrf_token": csrf(client, "/login/totp"),
            "totp": totp.code_at_step(secret, totp.current_step()),
        },
    )
    if second.status_code != 302:
        raise RuntimeError(f"TOTP step failed: {second.status_code}")


class StatementLog:
    """Every SQL statement of a block, with its parameters and time."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.entries: list[tuple[str, Any, float]] = []
        self._start: dict[int, float] = {}

    def _before(self, conn: Any, cursor: Any, statement: str, params: Any, *_a: Any) -> None:
        self._start[id(cursor)] = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, params: Any, *_a: Any) -> None:
        elapsed = time.perf_counter() - self._start.pop(id(cursor), time.perf_counter())
        self.entries.append((statement, params, elapsed))

    def __enter__(self) -> StatementLog:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_exc: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine_description()}")
    today = datetime.now(UTC).date()
    with installation_in_tempdir() as inst:
        key = TotpKey.of(load_secrets(inst.settings.secrets_file))
        with inst.database.session() as db:
            reviewer, secret = reviewers.create_reviewer(
                db,
                username="bench-intake",
                password=PASSWORD,
                role="reviewer",
                unit_slugs=["intake"],
                password_kdf=inst.settings.password_kdf,
                totp_key=key,
                actor="bench",
            )
            reviewer_id = reviewer.id
        # Seeded after the account exists: the reviewer is an established member whose
        # key is in every wrap (no pending grants). A reviewer who joins a unit holding
        # 40,000 cases gets 40,000 pending grants instead; see docs/benchmarks.md.
        stats = seed_cases(
            inst.database,
            args.cases,
            today=today,
            with_messages=True,
            with_exclusions=True,
        )
        shares = ", ".join(f"{k} {v}" for k, v in sorted(stats.per_unit.items()))
        print(f"seeded {stats.cases} cases in {stats.seconds:.1f} s ({shares})")
        app = create_review_app(inst.settings, inst.database)
        client = app.test_client()
        login(client, "bench-intake", secret)

        # Warm-up, then interleaved timed requests.
        for path in VARIANTS.values():
            for _ in range(args.warmup):
                response = client.get(path)
                if response.status_code != 200:
                    raise RuntimeError(f"GET {path}: {response.status_code}")
        samples: dict[str, list[float]] = {name: [] for name in VARIANTS}
        for _ in range(args.requests):
            for name, path in VARIANTS.items():
                start = time.perf_counter()
                response = client.get(path)
                elapsed = time.perf_counter() - start
                if response.status_code != 200 or "CT-" not in response.get_data(as_text=True):
                    raise RuntimeError(f"GET {path}: {response.status_code}, no case listed")
                samples[name].append(elapsed * 1000)

        # Statements of one whole request that take more than 2 ms.
        with StatementLog(inst.database.engine) as log:
            client.get("/inbox")
        slow_request = [(ms * 1000, st) for st, _p, ms in log.entries if ms * 1000 > 2]
        request_sql_ms = sum(ms for _st, _p, ms in log.entries) * 1000
        request_sql_n = len(log.entries)

        # The domain call alone, and its statements with their plans.
        domain: dict[str, float] = {}
        plans: dict[str, list[tuple[float, str, list[str]]]] = {}
        with inst.database.read_session() as db:
            actor = load_actor(db, reviewer_id)
            for name, path in VARIANTS.items():
                query = dict(p.split("=", 1) for p in path.partition("?")[2].split("&") if p)
                filters = InboxFilters.parse(query)
                runs = []
                for _ in range(10):
                    start = time.perf_counter()
                    page = inbox_page(db, actor, filters, today)
                    runs.append((time.perf_counter() - start) * 1000)
                domain[name] = median(runs)
                print(f"  {name}: {page.total} cases, {len(page.rows)} on the first page")
                with StatementLog(inst.database.engine) as log:
                    inbox_page(db, actor, filters, today)
                raw = db.connection().connection.driver_connection
                plans[name] = []
                for statement, params, elapsed in log.entries:
                    cursor = raw.execute("EXPLAIN QUERY PLAN " + statement, params)
                    plan = [str(row[3]) for row in cursor.fetchall()]
                    plans[name].append((elapsed * 1000, statement, plan))

    everything = [ms for values in samples.values() for ms in values]
    p95 = percentile(everything, 95)
    print(f"\nGET /inbox for a reviewer of the intake unit ({stats.per_unit.get('intake')} cases):")
    print(f"{'variant':<16} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'inbox_page() ms':>16}")
    for name, values in samples.items():
        print(
            f"{name:<16} {percentile(values, 50):8.1f} {percentile(values, 95):8.1f} "
            f"{max(values):8.1f} {domain[name]:16.1f}"
        )
    print(
        f"all {len(everything)} requests: p50 {percentile(everything, 50):.1f} ms, p95 {p95:.1f} ms"
    )
    print(
        f"\none GET /inbox: {request_sql_n} SQL statements, {request_sql_ms:.1f} ms in SQL; "
        "those over 2 ms:"
    )
    for ms, statement in slow_request:
        print(f"   {ms:7.2f} ms  {' '.join(statement.split())[:150]}")
    print("\nSQL statements of inbox_page (time of one run, SQLite EXPLAIN QUERY PLAN):")
    for name, entries in plans.items():
        print(f"-- {name}")
        for ms, statement, plan in entries:
            first = " ".join(statement.split())[:110]
            print(f"   {ms:7.2f} ms  {first}...")
            for step in plan:
                print(f"              | {step}")
    verdict = "met" if p95 < TARGET_MS else "MISSED"
    print(f"\ninbox p95 {p95:.1f} ms (target < {TARGET_MS:.0f} ms): {verdict}")
    print(bench_line("inbox_p95_ms", p95, "ms", digits=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
