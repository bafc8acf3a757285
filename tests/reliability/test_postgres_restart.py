"""PostgreSQL goes away while the intake serves (PostgreSQL only; skipped without
``LIEMCHINH_TEST_DATABASE_URL``).

Requests made while the database is unreachable fail cleanly - a 5xx page in the
reporter's language with no traceback or internal name in it, and no half-written case -
and requests made once it is back succeed at the first try (the engine's
``pool_pre_ping`` replaces the dead pooled connections).

Three ways to take the database away, from least to most disruptive:

- **A TCP proxy** (default): gunicorn reaches PostgreSQL through a proxy on a loopback
  port that this test runs. An outage closes every proxied connection and refuses new
  ones, exactly what clients see during a restart, and nothing else on the server is
  touched. This is also where reports are sent *while* connections are cut (chaos).
- **pg_terminate_backend** (default): the app's own server processes are killed,
  selected by a per-test ``application_name`` (never other sessions of the database).
- **A real restart** with ``pg_ctlcluster --skip-systemctl-redirect <version> main
  restart``: opt-in, because other tests and other people use the same server. Set
  ``LIEMCHINH_TEST_ALLOW_PG_RESTART=1`` to run it (CI on a dedicated machine does).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from app.cases import unit_of_work
from app.cases.retention import PARTIAL_GRACE, sweep
from app.database import Database
from app.models import Case, utcnow
from app.storage import BlobStore
from config import Settings
from tests.conftest import postgres_url
from tests.factories import make_reviewer
from tests.reliability.harness import (
    HIGH_RATE_LIMIT,
    LEAK_MARKERS,
    Browser,
    GunicornServer,
    Reply,
    assert_store_consistent,
    blob_keys,
    count_rows,
    files_in_store,
    free_port,
    hidden_fields_in,
    report_answers,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgresql_only]

ALLOW_RESTART_VAR = "LIEMCHINH_TEST_ALLOW_PG_RESTART"
VI_SERVER_ERROR = "Hệ thống gặp lỗi"
# A connection cut *during* COMMIT leaves its outcome unknown to the app: the case may be
# stored although the reporter saw the error page (which then says to send again, not
# that nothing was stored). That is inherent to a client/server database; the check
# xfails only when it actually happens. What must never happen, and is strict: a stored
# blob row whose file is gone (unit_of_work.commit keeps the files when the outcome is in
# doubt; the sweep removes them later if the rows were not stored).
KNOWN_IN_DOUBT = "commit outcome in doubt when the connection is cut during COMMIT"


class TcpProxy:
    """A loopback TCP proxy to PostgreSQL that can simulate an outage."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.2)
        self._up = threading.Event()
        self._up.set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._up.is_set():
                client.close()  # like a server that is restarting
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            client.settimeout(None)
            with self._lock:
                self._pairs.append((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                t = threading.Thread(target=self._pump, args=(a, b), daemon=True)
                t.start()
                self._threads.append(t)

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def down(self) -> None:
        """Cut every connection and refuse new ones."""
        self._up.clear()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for s in pair:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def up(self) -> None:
        self._up.set()

    def close(self) -> None:
        self._stop.set()
        self.down()
        self._listener.close()
        self._acceptor.join(timeout=5)
        for t in self._threads:
            t.join(timeout=5)


def _assert_clean_failure(reply: Reply) -> None:
    assert reply.status >= 500, (reply.status, reply.text[:500])
    for marker in LEAK_MARKERS:
        assert marker not in reply.text, (marker, reply.text[:2000])


def _assert_clean(reply: Reply) -> None:
    if reply.status >= 500:
        _assert_clean_failure(reply)


def _submit(port: int) -> Reply:
    return Browser(port, timeout=30).submit_report(
        report_answers(), files=[("attachments", "chung-tu.pdf", b"%PDF-1.4 " * 2000)]
    )


def _try_submit(port: int) -> tuple[int, str | None, list[Reply]]:
    """A reporter during an outage: (status of the POST or 0, receipt, every reply)."""
    browser = Browser(port, timeout=30)
    replies: list[Reply] = []
    page = browser.request("GET", "/report")
    replies.append(page)
    if page.status != 200:
        return 0, None, replies
    if not browser.cookies:
        # The form rendered but its new session could not be saved (the store went
        # down in between): its CSRF token belongs to no session, so posting it can
        # only be refused. Before the rate-limit counters left the database, the
        # limiter's own database error turned such a post into a 500 whenever it fell
        # in an outage; now the CSRF check answers it (400, nothing stored).
        return 0, None, replies
    hidden = hidden_fields_in(page.text)
    reply = browser.post_multipart(
        "/report",
        {**hidden, **report_answers()},
        [("attachments", "chung-tu.pdf", b"%PDF-1.4 " * 2000)],
    )
    replies.append(reply)
    return reply.status, reply.receipt(), replies


def _chaos(port: int, outage: object, *, rounds: int, clients: int = 4) -> list[tuple]:
    """Reporters keep submitting while ``outage()`` runs; returns their results."""
    stop = threading.Event()
    results: list[tuple[int, str | None, list[Reply]]] = []
    lock = threading.Lock()

    def reporter() -> None:
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline:
            result = _try_submit(port)
            with lock:
                results.append(result)

    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(reporter) for _ in range(clients)]
        try:
            for _ in range(rounds):
                outage()  # type: ignore[operator]
        finally:
            stop.set()
        for f in futures:
            f.result(timeout=90)
    return results


def _check_after(
    port: int, database: Database, settings: Settings, receipts: list[str], *, chaos: bool
) -> None:
    """The database is back: the first request succeeds, every receipt shown opens its
    case, no partial upload is left, no blob file lacks its row, and - unless a commit's
    outcome was lost in a cut connection (``chaos``, see KNOWN_IN_DOUBT) - cases match the
    receipts shown and every blob row has its file."""
    first = Browser(port).request("GET", "/report")
    assert first.status == 200, first.text[:1000]
    reply = _submit(port)
    assert reply.status == 200, reply.text[:1000]
    assert reply.receipt()
    receipts = [*receipts, str(reply.receipt())]
    for receipt in receipts:
        opened = Browser(port).open_case(receipt)
        assert opened.status == 200, (receipt, opened.status)
    rows = blob_keys(database)
    finals, partials = files_in_store(settings)
    assert partials == []
    assert rows - finals == set(), "committed blob rows whose file was deleted"
    if chaos:
        # Files kept for commits in doubt that did not land: the sweep removes them.
        with unit_of_work.transaction(database.sessionmaker) as db:
            sweep(
                db, BlobStore(settings.blob_path), now=utcnow() + PARTIAL_GRACE + timedelta(days=1)
            )
        finals, _ = files_in_store(settings)
    assert finals - rows == set(), "blob files without a row"
    problems = []
    extra = count_rows(database, Case) - len(receipts)
    assert extra >= 0, "a receipt was shown for a case that is not stored"
    if extra:
        problems.append(f"{extra} committed case(s) whose receipt was never shown")
    if problems:
        assert chaos, problems
        pytest.xfail(f"{KNOWN_IN_DOUBT}: {'; '.join(problems)}")
    assert_store_consistent(database, settings)


def _server_env(env: dict[str, str], *, port: int | None = None, app_name: str) -> dict[str, str]:
    url = make_url(env["LIEMCHINH_DATABASE_URL"])
    if port is not None:
        url = url.set(host="127.0.0.1", port=port)
    url = url.update_query_dict({"application_name": app_name})
    return {
        **env,
        "LIEMCHINH_DATABASE_URL": url.render_as_string(hide_password=False),
        "LIEMCHINH_INTAKE_RATE_LIMIT": HIGH_RATE_LIMIT,
    }


def test_outage_through_proxy_fails_cleanly_then_recovers(
    env: dict[str, str], database: Database, settings: Settings, tmp_path: Path
) -> None:
    make_reviewer(database, "intake")
    url = make_url(env["LIEMCHINH_DATABASE_URL"])
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    app_name = "lc_rel_" + secrets.token_hex(4)
    server_env = _server_env(env, port=proxy.port, app_name=app_name)
    try:
        with GunicornServer(server_env, tmp_path / "gunicorn.log", workers=1) as server:
            baseline = _submit(server.port)
            assert baseline.status == 200
            receipts = [baseline.receipt()]
            waiting = Browser(server.port)
            hidden = waiting.hidden_fields("/report")  # forms opened before the outage
            returning = Browser(server.port)
            followup_form = returning.hidden_fields("/followup")

            proxy.down()
            during = [
                waiting.post_multipart("/report", {**hidden, **report_answers()}),
                Browser(server.port).request("GET", "/report"),
                returning.post_form("/followup", {**followup_form, "receipt": str(receipts[0])}),
            ]
            for reply in during:
                _assert_clean_failure(reply)
            # A page that needs no database still renders (the session store being down
            # only means no session): it must be the real page, not an error.
            static_page = Browser(server.port).request("GET", "/followup")
            _assert_clean(static_page)
            assert static_page.status == 200, (static_page.status, static_page.text[:500])
            assert 'name="receipt"' in static_page.text, static_page.text[:2000]
            assert VI_SERVER_ERROR not in static_page.text
            html = [r for r in during if r.headers.get("Content-Type", "").startswith("text/html")]
            assert any(VI_SERVER_ERROR in r.text for r in html), [r.text[:300] for r in during]
            assert count_rows(database, Case) == 1  # the test's own connection is direct
            proxy.up()

            # Connections cut while reports are being stored: short outages, repeatedly.
            def blip() -> None:
                time.sleep(0.4)
                proxy.down()
                time.sleep(0.3)
                proxy.up()

            results = _chaos(server.port, blip, rounds=4)
            for _status, _receipt, replies in results:
                for reply in replies:
                    _assert_clean(reply)
            assert {status for status, _r, _rs in results} <= {0, 200, 500, 503}
            receipts += [r for status, r, _rs in results if status == 200 and r]
            assert any(status != 200 for status, _r, _rs in results), "no request hit an outage"
            _check_after(server.port, database, settings, [str(r) for r in receipts], chaos=True)
    finally:
        proxy.close()


def test_terminated_backends_are_replaced_without_an_error(
    env: dict[str, str], database: Database, settings: Settings, tmp_path: Path
) -> None:
    make_reviewer(database, "intake")
    app_name = "lc_rel_" + secrets.token_hex(4)
    server_env = _server_env(env, app_name=app_name)
    admin_url = postgres_url()
    assert admin_url is not None
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with GunicornServer(server_env, tmp_path / "gunicorn.log", workers=2) as server:
            receipts = []
            for _ in range(3):  # fill both workers' pools
                reply = _submit(server.port)
                assert reply.status == 200
                receipts.append(str(reply.receipt()))
            with admin.connect() as conn:
                killed = conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": app_name},
                ).scalar_one()
            assert killed >= 1
            # No request fails: pool_pre_ping notices each dead connection first.
            for _ in range(4):
                reply = _submit(server.port)
                assert reply.status == 200, reply.text[:1000]
                receipts.append(str(reply.receipt()))
            _check_after(server.port, database, settings, receipts, chaos=False)
    finally:
        admin.dispose()


def _pg_ready(timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ok = subprocess.run(
            ["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], check=False, timeout=10
        )
        if ok.returncode == 0:
            return True
        time.sleep(0.2)
    return False


@pytest.mark.skipif(
    os.environ.get(ALLOW_RESTART_VAR) != "1",
    reason=f"restarts the shared PostgreSQL server: set {ALLOW_RESTART_VAR}=1 to run",
)
def test_real_postgres_restart(
    env: dict[str, str], database: Database, settings: Settings, tmp_path: Path
) -> None:
    make_reviewer(database, "intake")
    versions = sorted(os.listdir("/etc/postgresql"))
    assert versions, "no PostgreSQL cluster found under /etc/postgresql"
    app_name = "lc_rel_" + secrets.token_hex(4)
    server_env = _server_env(env, app_name=app_name)
    with GunicornServer(server_env, tmp_path / "gunicorn.log", workers=2) as server:
        baseline = _submit(server.port)
        assert baseline.status == 200
        receipts = [str(baseline.receipt())]

        def restart() -> None:
            time.sleep(0.5)
            subprocess.run(
                [
                    "pg_ctlcluster",
                    "--skip-systemctl-redirect",
                    versions[-1],
                    "main",
                    "restart",
                ],
                check=True,
                timeout=120,
            )
            assert _pg_ready(60), "PostgreSQL did not come back"
            time.sleep(0.5)

        results = _chaos(server.port, restart, rounds=1)
        for _status, _receipt, replies in results:
            for reply in replies:
                _assert_clean(reply)
        assert {status for status, _r, _rs in results} <= {0, 200, 500, 503}
        receipts += [str(r) for status, r, _rs in results if status == 200 and r]
        _check_after(server.port, database, settings, receipts, chaos=True)
