"""Shared helpers for the benchmarks: a throwaway installation, bulk seeding of cases,
a gunicorn server on loopback, statistics and the ``BENCH`` line.

Not a test module and not part of the application. Every benchmark makes its own
installation in a temporary directory (instance folder, secrets, SQLite database at
head, default units, a recovery key), exactly like ``flask init`` does, and removes it
at the end. Argon2 costs are the defaults (64 MiB, t=3, p=4) unless a benchmark says
otherwise: the point is to measure what a deployment pays.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from sqlalchemy import insert, select  # noqa: E402

from app import installation, schema  # noqa: E402
from app.database import Database  # noqa: E402
from app.models import (  # noqa: E402
    Case,
    CaseExclusion,
    CaseKey,
    CaseReferenceCounter,
    Membership,
    Message,
    Reviewer,
    Unit,
)
from app.models.cases import new_message_id  # noqa: E402
from app.models.vocabulary import (  # noqa: E402
    CaseStatus,
    Category,
    KeyKind,
    Priority,
    Sector,
    Side,
)
from config import Settings, load_settings  # noqa: E402
from config.secrets import ensure_secrets  # noqa: E402
from crypto import Identity  # noqa: E402

# Loose upper bounds so a benchmark never hangs the whole `make bench`.
SERVER_START_TIMEOUT = 60.0


def bench_line(name: str, value: float, unit: str, digits: int = 3) -> str:
    return f"BENCH {name} {value:.{digits}f} {unit}"


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def machine_description() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f", {int(line.split()[1]) // 1024} MiB RAM"
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({cpu}){mem}, Python {sys.version.split()[0]}"


# -- installation --------------------------------------------------------------------------


@dataclass
class Installation:
    root: Path
    env: dict[str, str]
    settings: Settings
    database: Database
    recovery: Identity

    def close(self) -> None:
        self.database.dispose()


@contextmanager
def installation_in_tempdir(
    extra_env: dict[str, str] | None = None, *, keep: bool = False
) -> Iterator[Installation]:
    """A fresh installation (what ``flask init`` makes) in a temporary directory."""
    root = Path(tempfile.mkdtemp(prefix="liemchinh-bench-"))
    env = {
        "LIEMCHINH_INSTANCE_PATH": str(root / "instance"),
        **(extra_env or {}),
    }
    settings = load_settings(env)
    settings.instance_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    settings.blob_path.mkdir(parents=True, exist_ok=True, mode=0o700)
    ensure_secrets(settings.secrets_file)
    database = Database(settings.database_url)
    schema.upgrade(database.engine)
    recovery = Identity.generate()
    with database.session() as session:
        installation.ensure_default_units(session, actor="bench")
        installation.set_recovery_recipient(session, str(recovery.recipient), actor="bench")
    inst = Installation(root, env, settings, database, recovery)
    try:
        yield inst
    finally:
        inst.close()
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def unit_ids(database: Database) -> dict[str, int]:
    with database.read_session() as db:
        return {slug: uid for slug, uid in db.execute(select(Unit.slug, Unit.id)).all()}


def add_key_only_reviewer(database: Database, *unit_slugs: str) -> Identity:
    """A reviewer row with a key pair and memberships (no password: not for logging in),
    so that new cases are wrapped to a unit member as in a real installation."""
    identity = Identity.generate()
    ids = unit_ids(database)
    with database.session() as db:
        reviewer = Reviewer(
            username=f"bench-{secrets.token_hex(3)}",
            password_hash="!unusable",  # noqa: S106 - not a password: no login
            public_key=str(identity.recipient),
            wrapped_private_key=None,
            role="reviewer",
        )
        db.add(reviewer)
        db.flush()
        for slug in unit_slugs:
            db.add(Membership(reviewer_id=reviewer.id, unit_id=ids[slug]))
    return identity


# -- bulk seeding --------------------------------------------------------------------------

# Where cases sit in a city-sized installation after a few years: the intake unit holds
# 40 % (new, in triage, waiting for information, or closed at triage), the inspection and
# investigation units most of the rest, oversight a little.
UNIT_SHARES = (
    ("intake", 0.40, (("new", 0.15), ("triage", 0.35), ("needs_info", 0.15), ("closed", 0.35))),
    ("inspection", 0.30, (("routed_inspection", 0.45), ("closed", 0.55))),
    ("investigation", 0.22, (("routed_investigation", 0.50), ("closed", 0.50))),
    ("oversight", 0.08, (("routed_inspection", 0.50), ("closed", 0.50))),
)
_CATEGORIES = [c.value for c in Category]
_SECTORS = [s.value for s in Sector]
_PRIORITIES = [p.value for p in Priority]
_FAKE_RECIPIENT = "age1" + "q" * 58  # right shape; never used to encrypt


def _weighted(rng: Any, pairs: Sequence[tuple[str, float]]) -> str:
    x = rng.random()
    acc = 0.0
    for value, weight in pairs:
        acc += weight
        if x < acc:
            return value
    return pairs[-1][0]


@dataclass(frozen=True)
class SeedStats:
    cases: int
    seconds: float
    per_unit: dict[str, int]


def seed_cases(
    database: Database,
    count: int,
    *,
    today: date,
    with_keys: bool = False,
    with_messages: bool = False,
    with_exclusions: bool = False,
    seed: int = 7,
    batch: int = 20000,
) -> SeedStats:
    """Insert ``count`` cases with bulk INSERTs (executemany), bypassing the domain layer.

    Random 32-byte lookup keys (unique), valid vocabulary values, unique references
    (``CT-<year>-<n>`` by creation year, counters moved past them so that cases made
    later through the domain never collide), deadlines computed from the day like the
    domain does. Optionally a case key wrap per case (random bytes: nobody opens them),
    reporter messages (a quarter unread) and a few reporter exclusions.
    """
    import random

    rng = random.Random(seed)
    units = unit_ids(database)
    start = time.perf_counter()
    per_unit: dict[str, int] = {}
    counters: dict[int, int] = {}
    # Creation days over the last three years, more recent ones more likely.
    span = 3 * 365
    rows: list[dict[str, Any]] = []
    key_rows: list[dict[str, Any]] = []
    msg_rows: list[dict[str, Any]] = []
    excl_rows: list[dict[str, Any]] = []
    unit_weights = [(slug, share) for slug, share, _ in UNIT_SHARES]
    statuses = {slug: st for slug, _, st in UNIT_SHARES}
    from datetime import UTC, datetime

    wrap = secrets.token_bytes(300)
    inserted = 0

    def flush() -> None:
        nonlocal inserted
        # Core inserts with a list of parameter sets: one executemany per table (the ORM
        # bulk path splits rows into many single INSERTs here).
        with database.engine.begin() as conn:
            for table, params in (
                (Case.__table__, rows),
                (CaseKey.__table__, key_rows),
                (Message.__table__, msg_rows),
                (CaseExclusion.__table__, excl_rows),
            ):
                if params:
                    conn.execute(insert(table), params)
        inserted += len(rows)
        rows.clear()
        key_rows.clear()
        msg_rows.clear()
        excl_rows.clear()

    for _ in range(count):
        age = int(span * (1 - rng.random() ** 0.7))
        day = today - timedelta(days=age)
        year = day.year
        counters[year] = counters.get(year, 0) + 1
        number = counters[year]
        slug = _weighted(rng, unit_weights)
        status = _weighted(rng, statuses[slug])
        per_unit[slug] = per_unit.get(slug, 0) + 1
        closed = status == CaseStatus.CLOSED.value
        ack = day + timedelta(days=7)
        decision = day + timedelta(days=30)
        feedback = day + timedelta(days=90)

        def done(due: date, *, p: float = 0.85, closed: bool = closed) -> datetime | None:
            # Mostly met on time for older cases; open ones may be late.
            if closed or (due < today and rng.random() < p):
                met = min(due, today) - timedelta(days=rng.randint(0, 3))
                return datetime(met.year, met.month, met.day, 12, tzinfo=UTC)
            return None

        case_id = secrets.token_hex(16)
        rows.append(
            {
                "id": case_id,
                "reference": f"CT-{year}-{number:05d}",
                "ref_year": year,
                "ref_number": number,
                "receipt_lookup_key": secrets.token_bytes(32),
                "reporter_recipient": _FAKE_RECIPIENT,
                "case_recipient": _FAKE_RECIPIENT,
                "staff_recipient": _FAKE_RECIPIENT,
                "category": rng.choice(_CATEGORIES),
                "sector": rng.choice(_SECTORS),
                "status": status,
                "resolution": "duplicate" if closed else None,
                "priority": rng.choices(_PRIORITIES, weights=(10, 70, 15, 5))[0],
                "holding_unit_id": units[slug],
                "assignee_id": None,
                "created_day": day,
                "acknowledged_at": done(ack),
                "decided_at": done(decision) if slug != "intake" or closed else None,
                "feedback_at": done(feedback, p=0.7),
                "acknowledge_due": ack,
                "decision_due": decision,
                "feedback_due": feedback,
                "closed_at": datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=60)
                if closed
                else None,
                "purge_after": day + timedelta(days=60 + 365) if closed else None,
                "legal_hold": False,
            }
        )
        if with_keys:
            key_rows.append(
                {
                    "case_id": case_id,
                    "kind": KeyKind.CASE.value,
                    "wrap": wrap,
                    "recipients": _FAKE_RECIPIENT + "\n",
                }
            )
        if with_messages and rng.random() < 0.3:
            for _m in range(rng.randint(1, 3)):
                msg_rows.append(
                    {
                        "id": new_message_id(),
                        "case_id": case_id,
                        "author_side": Side.REPORTER.value,
                        "author_id": None,
                        "created_at": datetime(day.year, day.month, day.day, tzinfo=UTC),
                        "read_at": None
                        if rng.random() < 0.25
                        else datetime(day.year, day.month, day.day, tzinfo=UTC),
                    }
                )
        if with_exclusions and rng.random() < 0.02 and slug != "investigation":
            excl_rows.append({"case_id": case_id, "unit_id": units["investigation"]})
        if len(rows) >= batch:
            flush()
    flush()
    with database.session() as db:
        for year, last in counters.items():
            row = db.get(CaseReferenceCounter, year)
            if row is None:
                db.add(CaseReferenceCounter(year=year, last_number=last))
            else:
                row.last_number = max(row.last_number, last)
    if database.url.startswith("sqlite"):
        with database.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    return SeedStats(inserted, time.perf_counter() - start, per_unit)


# -- gunicorn ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [int(p) for p in children.read_text().split()]
        except OSError:
            return []

    def workers_cpu_seconds(self) -> float:
        """User + system CPU time the live workers have used so far (all their threads)."""
        total = 0
        for pid in self.worker_pids():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
        return total / os.sysconf("SC_CLK_TCK")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextmanager
def gunicorn(
    env: dict[str, str], app: str = "wsgi:intake_app", workers: int = 2, log_dir: Path | None = None
) -> Iterator[Server]:
    """``gunicorn -c config/gunicorn.py --workers N`` on a free loopback port."""
    port = free_port()
    log_path = (log_dir or Path(tempfile.gettempdir())) / f"gunicorn-{port}.log"
    log = open(log_path, "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "config/gunicorn.py",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            app,
        ],
        cwd=REPO_ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Server(proc, port, log_path)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {server.log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                if len(server.worker_pids()) >= workers:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start: {server.log_tail()}")
            time.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
        with contextlib.suppress(OSError):
            log_path.unlink()


# -- a small HTTP client with a cookie jar (stdlib only) ----------------------------------

import http.client  # noqa: E402
import re  # noqa: E402

_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"')
RECEIPT = re.compile(r'id="receipt-code">(\d{4} \d{4} \d{4} \d{4} \d{4})<')


class Browser:
    """One reporter's browser without JavaScript: one keep-alive connection and a
    cookie jar (name → value; the intake sets only its own session cookie)."""

    def __init__(self, port: int, timeout: float = 120.0) -> None:
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Host": f"127.0.0.1:{self.port}", "Accept-Language": "vi"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers.update(extra or {})
        return headers

    def _keep_cookies(self, response: http.client.HTTPResponse) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in header.lower() or "expires=thu, 01 jan 1970" in header.lower():
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        conn = self._connection()
        try:
            conn.request(method, path, body=body, headers=self._headers(headers))
            response = conn.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError):
            self.close()
            raise
        self._keep_cookies(response)
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        return response.status, data

    def form_tokens(self, path: str = "/report") -> dict[str, str]:
        status, html = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status}")
        hidden = {
            name: value
            for name, value in _HIDDEN.findall(html.decode())
            if name in ("csrf_token", "form_nonce")
        }
        if "csrf_token" not in hidden or "form_nonce" not in hidden:
            raise RuntimeError("no csrf_token / form_nonce on the form")
        return hidden


REPORT_FIELDS = {
    "category": "corruption",
    "sector": "land_construction",
    "summary": "Cán bộ phường đòi tiền để ký giấy phép xây dựng",
    "details": "Ông A, cán bộ địa chính, yêu cầu 20 triệu đồng để ký hồ sơ. " * 10,
    "location": "Phường An Hòa, quận Ninh Kiều",
}


def multipart_head_and_tail(
    fields: dict[str, str], file_field: str, filename: str, content_type: str
) -> tuple[bytes, bytes, str]:
    """The bytes before and after one file's content in a multipart/form-data body."""
    boundary = "----liemchinhbench" + secrets.token_hex(12)
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    parts.append(
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
        ).encode()
    )
    head = b"".join(parts)
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head, tail, f"multipart/form-data; boundary={boundary}"


def receipt_in(html: bytes) -> str | None:
    match = RECEIPT.search(html.decode(errors="replace"))
    return match.group(1) if match else None
