"""Helpers for the reliability tests: a real gunicorn on a free loopback port, a
stdlib-only browser (its own cookie jar, no JavaScript), and checks of what an
installation holds (case rows, blob rows, blob files).

Everything here is bounded: every wait has a deadline, every request a socket timeout.
Only loopback addresses are used.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select

from app.database import Database
from app.models import Blob, Case
from config import Settings

ROOT = Path(__file__).resolve().parents[2]
HIGH_RATE_LIMIT = "100000 per minute"
RECEIPT_PATTERN = re.compile(r'id="receipt-code">(\d{4} \d{4} \d{4} \d{4} \d{4})<')
_HIDDEN_FIELD = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"')
# What must never reach a reporter's screen: a traceback or the names of our internals.
LEAK_MARKERS = (
    "Traceback",
    'File "',
    "sqlalchemy",
    "psycopg",
    "OperationalError",
    "sqlite3",
    "/work/",
    "site-packages",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- a real server ---------------------------------------------------------------------


class GunicornServer:
    """``python -m gunicorn -c config/gunicorn.py … wsgi:intake_app`` with the test's env
    (``app``: another WSGI app, e.g. ``wsgi:review_app``). ``workers``/``threads`` None:
    config/gunicorn.py decides (from LIEMCHINH_WORKERS/THREADS in ``env``).

    Output goes to a log file (not a pipe that could fill up and block the server).
    """

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        *,
        workers: int | None = 2,
        threads: int | None = 4,
        extra_args: Iterable[str] = (),
        app: str = "wsgi:intake_app",
    ) -> None:
        self.port = free_port()
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "config/gunicorn.py",
                *(["--workers", str(workers)] if workers is not None else []),
                *(["--threads", str(threads)] if threads is not None else []),
                "--bind",
                f"127.0.0.1:{self.port}",
                *extra_args,
                app,
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log()}")
            try:
                status, _h, _b = Browser(self.port, timeout=5).get("/")
                if status in (200, 302):  # the review app sends to /login
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start in {timeout}s:\n{self.log()}")
            time.sleep(0.1)

    def workers(self) -> list[int]:
        """Pids of the master's children (its workers), read from /proc."""
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may contain spaces, so split after ')'.
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == self.pid and fields[0] != "Z":
                children.append(int(entry.name))
        return sorted(children)

    def wait_workers(
        self, count: int, exclude: Iterable[int] = (), timeout: float = 30.0
    ) -> list[int]:
        excluded = set(exclude)
        deadline = time.monotonic() + timeout
        while True:
            pids = [p for p in self.workers() if p not in excluded]
            if len(pids) >= count:
                return pids
            if time.monotonic() > deadline:
                raise RuntimeError(f"no {count} new worker(s) after {timeout}s:\n{self.log()}")
            time.sleep(0.1)

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text("utf-8", "replace")

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()
        return self.log_path.read_text("utf-8", "replace")

    def __enter__(self) -> GunicornServer:
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


# -- a browser without JavaScript ------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def receipt(self) -> str | None:
        match = RECEIPT_PATTERN.search(self.text)
        return match.group(1) if match else None


@dataclass
class Browser:
    """One reporter's browser: stdlib http.client, its own cookie jar, no redirects."""

    port: int
    timeout: float = 60.0
    cookies: dict[str, str] = field(default_factory=dict)

    def _cookie_header(self) -> dict[str, str]:
        if not self.cookies:
            return {}
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    def _remember(self, response: http.client.HTTPResponse) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            pair = header.split(";", 1)[0]
            name, _, value = pair.partition("=")
            lowered = header.lower()
            if value == "" or "max-age=0" in lowered or "expires=thu, 01 jan 1970" in lowered:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request(
                method, path, body=body, headers={**self._cookie_header(), **(headers or {})}
            )
            response = conn.getresponse()
            data = response.read()
            self._remember(response)
            return Reply(response.status, dict(response.headers.items()), data)
        finally:
            conn.close()

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        reply = self.request("GET", path)
        return reply.status, reply.headers, reply.body

    def hidden_fields(self, page: str) -> dict[str, str]:
        reply = self.request("GET", page)
        assert reply.status == 200, (page, reply.status, reply.text[:500])
        return hidden_fields_in(reply.text)

    def post_form(self, path: str, fields: dict[str, str]) -> Reply:
        return self.request(
            "POST",
            path,
            urlencode(fields).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )

    def post_multipart(
        self,
        path: str,
        fields: dict[str, str | list[str]],
        files: Sequence[tuple[str, str, bytes]] = (),
    ) -> Reply:
        body, content_type = encode_multipart(fields, files)
        return self.request("POST", path, body, {"Content-Type": content_type})

    def submit_report(
        self, answers: dict[str, str | list[str]], files: Sequence[tuple[str, str, bytes]] = ()
    ) -> Reply:
        """GET /report for the CSRF token and one-time form nonce, then POST it."""
        hidden = self.hidden_fields("/report")
        return self.post_multipart("/report", {**hidden, **answers}, files)

    def open_case(self, receipt: str) -> Reply:
        """POST the receipt to /followup; on success (303) follow to the case page."""
        hidden = self.hidden_fields("/followup")
        reply = self.post_form("/followup", {**hidden, "receipt": receipt})
        if reply.status != 303:
            return reply
        return self.request("GET", "/followup/case")


def hidden_fields_in(html: str) -> dict[str, str]:
    """The tokens a browser sends back with a form: CSRF token and one-time nonce."""
    return {
        name: value
        for name, value in _HIDDEN_FIELD.findall(html)
        if name in ("csrf_token", "form_nonce")
    }


def encode_multipart(
    fields: dict[str, str | list[str]], files: Iterable[tuple[str, str, bytes]] = ()
) -> tuple[bytes, str]:
    """A multipart/form-data body like a browser's. ``files``: (field, filename, content)."""
    boundary = "----lc" + secrets.token_hex(12)
    out: list[bytes] = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            out.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                + item.encode()
                + b"\r\n"
            )
    for name, filename, content in files:
        out.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
            ).encode()
            + content
            + b"\r\n"
        )
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def report_answers(**overrides: str) -> dict[str, str | list[str]]:
    answers: dict[str, str | list[str]] = {
        "category": "corruption",
        "sector": "land_construction",
        "summary": "Cán bộ phường đòi tiền để ký giấy phép xây dựng",
        "details": "Ông A, cán bộ địa chính, yêu cầu 20 triệu đồng để ký hồ sơ.",
    }
    answers.update(overrides)
    return answers


# -- what the installation holds -------------------------------------------------------


def count_rows(database: Database, model: Any) -> int:
    with database.read_session() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def blob_keys(database: Database) -> set[str]:
    with database.read_session() as db:
        return set(db.scalars(select(Blob.storage_key)))


def files_in_store(settings: Settings) -> tuple[set[str], list[Path]]:
    """(final blob keys on disk, every file under tmp/)."""
    root = settings.blob_path
    finals = {f"{p.parent.name}/{p.name}" for p in root.glob("??/*.age")}
    tmp = [p for p in (root / "tmp").glob("*") if p.is_file()] if (root / "tmp").exists() else []
    return finals, tmp


def assert_store_consistent(database: Database, settings: Settings) -> None:
    """Every blob row has its file, every file its row, and nothing is left in tmp/."""
    rows = blob_keys(database)
    finals, tmp = files_in_store(settings)
    assert tmp == [], f"partial files left behind: {tmp}"
    assert rows == finals, {"rows without file": rows - finals, "files without row": finals - rows}
    stray = [
        p
        for p in settings.blob_path.rglob("*")
        if p.is_file() and p.parent.name != "tmp" and f"{p.parent.name}/{p.name}" not in finals
    ]
    assert stray == [], f"unexpected files in the blob store: {stray}"


def case_count(database: Database) -> int:
    return count_rows(database, Case)


# -- the JavaScript path, emulated (what assets/js/core.js sends) ----------------------


def solved_challenge(client: Any) -> dict[str, str]:
    """GET /api/v1/challenge and solve it: the fields a JavaScript request that makes the
    server work (opening a case, a message) carries."""
    from app.cases.pow import solve

    pow_ = client.get("/api/v1/challenge").get_json()
    return {
        "pow_challenge": pow_["challenge"],
        "pow_nonce": solve(pow_["challenge"], pow_["difficulty"]),
    }


def api_ticket(client: Any, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """GET /api/v1/submission, solve its proof of work, POST /api/v1/tickets."""
    from app.cases.pow import solve

    info = client.get("/api/v1/submission").get_json()
    pow_ = info["pow"]
    response = client.post(
        "/api/v1/tickets",
        json={
            "pow_challenge": pow_["challenge"],
            "pow_nonce": solve(pow_["challenge"], pow_["difficulty"]),
        },
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 201, response.get_json()
    return info, response.get_json()


def api_report_parts(
    info: dict[str, Any], ticket: dict[str, Any], files: Iterable[bytes] = ()
) -> dict[str, Any]:
    """A well-formed /api/v1/reports body: answers and files encrypted to a new case key,
    key wraps to the readers (and the reporter). Parts are raw bytes here; callers wrap
    them for their client."""
    from app.cases.payloads import AttachmentMeta, encode_report
    from crypto import Identity, Recipient, encrypt_bytes

    case_identity, staff_identity = Identity.generate(), Identity.generate()
    readers = [Recipient.parse(r) for r in info["recipients"]]
    files = list(files)
    metas = [AttachmentMeta(f"f{i}.pdf", "application/pdf", len(f)) for i, f in enumerate(files)]
    answers = {"category": "waste", "summary": "Lãng phí", "details": "Chi tiết vụ việc"}
    return {
        "ticket": ticket["ticket"],
        "category": "waste",
        "sector": "education",
        "case_recipient": str(case_identity.recipient),
        "staff_recipient": str(staff_identity.recipient),
        "recipients_version": info["recipients_version"],
        "report": encrypt_bytes(encode_report(answers, metas), [case_identity.recipient]),
        "attachment": [encrypt_bytes(f, [case_identity.recipient]) for f in files],
        "case_key_wrap": encrypt_bytes(
            str(case_identity).encode(),
            [*readers, Recipient.parse(ticket["reporter_recipient"])],
        ),
        "staff_key_wrap": encrypt_bytes(str(staff_identity).encode(), readers),
    }


FILE_PARTS = ("report", "attachment", "case_key_wrap", "staff_key_wrap")


def for_test_client(parts: dict[str, Any]) -> dict[str, Any]:
    """Turn raw-bytes parts into what Flask's test client posts as file parts."""
    import io

    data: dict[str, Any] = {}
    for name, value in parts.items():
        if name in FILE_PARTS:
            items = value if isinstance(value, list) else [value]
            files = [(io.BytesIO(v), f"{name}.age") for v in items]
            data[name] = files if isinstance(value, list) else files[0]
        else:
            data[name] = value
    return data


# -- staff on the review app -----------------------------------------------------------


def staff_login(browser: Browser, username: str, password: str, totp_code: str) -> None:
    """Both login steps of the review app, as a browser without JavaScript does them."""
    hidden = browser.hidden_fields("/login")
    first = browser.post_form("/login", {**hidden, "username": username, "password": password})
    assert first.status == 302 and first.headers["Location"].endswith("/login/totp"), first.text
    hidden = browser.hidden_fields("/login/totp")
    second = browser.post_form("/login/totp", {**hidden, "totp": totp_code})
    assert second.status == 302, second.text[:500]
