"""Browser tests: the intake app served on a real port, driven by headless Chromium.

Only the system's Chromium (/usr/bin/chromium) is used; nothing is downloaded. Without
it (or without the playwright package) every test in this folder is skipped.

Each test gets a fresh installation (the ``intake_app`` fixture), a server of its own
and a new browser context (no cookies, storage or cache shared between tests). The
browser process itself is launched once per session (a launch costs about a second;
a context is what holds a test's state, and each test has its own).

Two independent records of what was sent:

- :class:`Traffic` records, in the browser, every request's URL and body
  (``context.route``: the request as Playwright intercepted it);
- :class:`BodyRecorder` is a WSGI middleware in front of the app that records every
  body the server actually received.

Tests compare the two, so a request body the browser hid from Playwright (``None``)
cannot make a "no canary in the body" check pass by accident.
"""

from __future__ import annotations

import contextlib
import io
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from config import Settings

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, FilePayload, Page, Request, Route

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HERE = Path(__file__).parent


def _skip_reason() -> str | None:
    if not CHROMIUM.exists():
        return f"browser tests need the system Chromium at {CHROMIUM} (never downloaded)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "browser tests need the playwright Python package"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _skip_reason()
    for item in items:
        if HERE not in Path(str(item.path)).parents:
            continue
        item.add_marker(pytest.mark.browser)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


# -- the server ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedBody:
    method: str
    path: str
    content_type: str
    body: bytes


class BodyRecorder:
    """WSGI middleware: keeps a copy of every request body the server receives."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.received: list[ReceivedBody] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        stream = environ["wsgi.input"]
        if length:
            body = stream.read(length)
        elif environ.get("wsgi.input_terminated"):
            body = stream.read()
        else:
            body = b""
        environ["wsgi.input"] = io.BytesIO(body)
        with self._lock:
            self.received.append(
                ReceivedBody(
                    environ["REQUEST_METHOD"],
                    environ.get("PATH_INFO", ""),
                    environ.get("CONTENT_TYPE", ""),
                    body,
                )
            )
        return self.app(environ, start_response)

    def bodies(self, method: str = "POST", path: str | None = None) -> list[ReceivedBody]:
        with self._lock:
            return [
                r for r in self.received if r.method == method and (path is None or r.path == path)
            ]


@dataclass(frozen=True)
class LiveServer:
    url: str  # http://127.0.0.1:<port>, no trailing slash
    recorder: BodyRecorder

    def __call__(self, path: str) -> str:
        return self.url + path


LiveIntake = LiveServer


@contextlib.contextmanager
def serve(app: Flask, name: str) -> Iterator[LiveServer]:
    """``app`` served on 127.0.0.1 on a free port, in a background thread."""
    recorder = BodyRecorder(app)
    server = make_server("127.0.0.1", 0, recorder, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", recorder)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def live_intake(intake_app: Flask) -> Iterator[LiveServer]:
    with serve(intake_app, "live-intake") as live:
        yield live


# -- the browser --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class SentRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None


@dataclass
class Traffic:
    """Every request a browser context made, as Playwright saw it before it left."""

    requests: list[SentRequest] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)  # every request event, routed or not

    def record(self, route: Route) -> None:
        request: Request = route.request
        self.requests.append(
            SentRequest(
                request.method,
                request.url,
                dict(request.headers),
                request.post_data_buffer,
            )
        )
        route.continue_()

    def posts(self, url_suffix: str | None = None) -> list[SentRequest]:
        return [
            r
            for r in self.requests
            if r.method == "POST" and (url_suffix is None or r.url.endswith(url_suffix))
        ]

    def bodies(self) -> Iterable[bytes]:
        return [r.body for r in self.requests if r.body is not None]


@dataclass
class BrowserSession:
    context: BrowserContext
    page: Page
    traffic: Traffic


@pytest.fixture
def open_session(
    browser: Browser, live_intake: LiveIntake
) -> Iterator[Callable[..., BrowserSession]]:
    """Opens a fresh browser context (Vietnamese by default) with traffic recording."""
    contexts: list[BrowserContext] = []

    def _open(*, javascript: bool = True, width: int = 1280, height: int = 900) -> BrowserSession:
        context = browser.new_context(
            base_url=live_intake.url,
            java_script_enabled=javascript,
            locale="vi-VN",
            viewport={"width": width, "height": height},
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        traffic = Traffic()
        context.route("**/*", traffic.record)
        context.on("request", lambda request: traffic.urls.append(request.url))
        return BrowserSession(context, context.new_page(), traffic)

    yield _open
    for context in contexts:
        context.close()


# -- shared steps and checks --------------------------------------------------------------

RECEIPT = r"^\d{4} \d{4} \d{4} \d{4} \d{4}$"
ATTACHMENT_SIZE = 300 * 1024


@dataclass(frozen=True)
class Canaries:
    """Distinctive strings typed or attached by the reporter: plaintext markers."""

    details: str
    attachment: str
    filename: str
    message: str

    @classmethod
    def new(cls) -> Canaries:
        tag = secrets.token_hex(8)
        return cls(
            details=f"CANARY-DETAILS-{tag}",
            attachment=f"CANARY-ATTACH-{tag}",
            filename=f"bien-ban-CANARY-NAME-{tag}.txt",
            message=f"CANARY-MESSAGE-{tag}",
        )

    def all(self) -> dict[str, bytes]:
        return {
            "details": self.details.encode(),
            "attachment": self.attachment.encode(),
            "filename": self.filename.encode(),
            "message": self.message.encode(),
        }

    def attachment_bytes(self) -> bytes:
        """About 300 KB of text with the attachment canary at the start, middle and end."""
        marker = f" {self.attachment} ".encode()
        filler = b"Bien ban nghiem thu cong trinh, so lieu thanh toan.\n"
        half = (ATTACHMENT_SIZE - 3 * len(marker)) // 2
        body = (filler * (half // len(filler) + 1))[:half]
        return marker + body + marker + body + marker


REPORT_ANSWERS = {
    "category": "waste",
    "sector": "health",
    "summary": "Bệnh viện quận mua máy xét nghiệm với giá gấp ba",
    "location": "Quận Ninh Kiều, Cần Thơ",
}


def fill_report(page: Page, canaries: Canaries, *, attach: bool = True) -> None:
    """Fill /report the way a reporter would: answers, one attachment, contact left empty."""
    page.select_option("#q-category", REPORT_ANSWERS["category"])
    page.select_option("#q-sector", REPORT_ANSWERS["sector"])
    page.fill("#q-summary", REPORT_ANSWERS["summary"])
    page.fill("#q-details", f"Hợp đồng số 12/2026 bị nâng giá. {canaries.details}")
    page.fill("#q-location", REPORT_ANSWERS["location"])
    assert page.input_value("#q-contact") == ""
    if attach:
        payload: FilePayload = {
            "name": canaries.filename,
            "mimeType": "text/plain",
            "buffer": canaries.attachment_bytes(),
        }
        page.set_input_files("#attachments", files=[payload])


def found_in(bodies: Iterable[bytes], needles: dict[str, bytes]) -> set[str]:
    """Names of the needles that occur in any of the bodies (raw bytes)."""
    return {name for name, needle in needles.items() for body in bodies if needle in body}


def stored_files(settings: Settings) -> dict[Path, bytes]:
    """Every file the installation wrote: instance folder (SQLite + -wal, secrets,
    blobs) and the blob store wherever it is configured."""
    files: dict[Path, bytes] = {}
    for root in (settings.instance_path, settings.blob_path):
        if root.exists():
            for path in root.rglob("*"):
                if path.is_file():
                    files[path.resolve()] = path.read_bytes()
    return files
