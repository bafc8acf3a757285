"""Every intake page: nothing from another origin, no inline code or style, honest words
about what is protected, session-only cookies, and a language switch that sticks."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app.cases import unit_of_work
from app.cases.messages import add_message_from_server
from app.database import Database
from app.models import Case
from app.models.vocabulary import Side
from app.storage import BlobStore
from config import Settings, load_settings
from crypto.receipts import new_receipt
from tests.conftest import CsrfClient
from tests.factories import make_reviewer, open_case, receipt_from, report_answers, send_report

URL_ATTRIBUTES = {"src", "href", "action", "formaction", "srcset", "poster", "data", "manifest"}
EXTERNAL_PREFIXES = ("//", "http:", "https:", "\\\\")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
VOID |= {"track", "wbr"}


@dataclass
class PageAudit(HTMLParser):
    """Finds what a privacy-minded page must not have. ``problems`` lists them."""

    problems: list[str] = field(default_factory=list)
    stack: list[tuple[str, set[str]]] = field(default_factory=list)
    in_script: bool = False
    allowed_links: int = 0

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def _in_message_text(self) -> bool:
        classes = [c for _tag, c in self.stack]
        for i, outer in enumerate(classes):
            if "message" in outer and any("text" in inner for inner in classes[i + 1 :]):
                return True
        return False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check(tag, attrs)
        if tag not in VOID:
            self.stack.append((tag, set((dict(attrs).get("class") or "").split())))
        if tag == "script":
            self.in_script = True
        if tag == "style":
            self.problems.append("<style> element")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._check(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False
        if tag in VOID:
            return
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.in_script and data.strip():
            self.problems.append(f"inline script: {data.strip()[:60]!r}")

    def _check(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>")
            if name.startswith("on"):
                self.problems.append(f"inline event handler {name} on <{tag}>")
            if name not in URL_ATTRIBUTES or not value:
                continue
            urls = [part.split()[0] for part in value.split(",") if part.split()]
            urls = urls if name == "srcset" else [value]
            for url in urls:
                if not url.strip().lower().startswith(EXTERNAL_PREFIXES):
                    continue
                rel = set((values.get("rel") or "").split())
                if (
                    tag == "a"
                    and name == "href"
                    and "noreferrer" in rel
                    and self._in_message_text()
                ):
                    self.allowed_links += 1
                    continue
                self.problems.append(f"<{tag} {name}={url!r}> points to another origin")


def audit(html: str) -> PageAudit:
    parser = PageAudit()
    parser.feed(html)
    parser.close()
    return parser


def test_positive_control_the_checker_catches_what_it_must() -> None:
    bad = """<!doctype html><html><head>
    <link rel="stylesheet" href="https://cdn.example/site.css">
    <script src="//cdn.example/lib.js"></script>
    <script>track()</script>
    <style>body{}</style>
    </head><body>
    <img srcset="/local.png 1x, https://img.example/x.png 2x">
    <form action="http://collector.example/post"></form>
    <p style="color:red" onclick="x()">hi</p>
    <a href="https://outside.example" rel="noopener noreferrer nofollow">outside a message</a>
    <ol><li class="message"><div class="text">
      <a href="https://example.org" rel="noopener noreferrer nofollow">ok</a>
      <a href="https://example.net">no rel</a>
    </div></li></ol>
    </body></html>"""
    problems = audit(bad).problems
    text = "\n".join(problems)
    for expected in (
        "https://cdn.example/site.css",
        "//cdn.example/lib.js",
        "inline script: 'track()'",
        "<style> element",
        "https://img.example/x.png",
        "http://collector.example/post",
        "style attribute on <p>",
        "inline event handler onclick",
        "https://outside.example",
        "https://example.net",
    ):
        assert expected in text, (expected, problems)
    assert "https://example.org" not in text
    assert audit(bad).allowed_links == 1
    clean = '<a href="/report">ok</a><script src="/static/js/intake.js" defer></script>'
    assert audit(clean).problems == []


def _client(app: Flask) -> CsrfClient:
    app.test_client_class = CsrfClient
    client = app.test_client()
    assert isinstance(client, CsrfClient)
    return client


def every_page(app: Flask, database: Database, settings: Settings) -> dict[str, Any]:
    """Every page a reporter can see, in both languages, keyed by a readable name."""
    pages: dict[str, Any] = {}
    seen_cases: set[str] = set()
    for lang in ("vi", "en"):
        client = _client(app)
        pages[f"{lang} landing"] = client.get(f"/?lang={lang}")
        pages[f"{lang} report"] = client.get("/report")
        pages[f"{lang} followup"] = client.get("/followup")
        pages[f"{lang} form errors"] = send_report(client, report_answers(details=""))
        pages[f"{lang} receipt typo"] = open_case(client, "1234 5678 9012 3456 7890")
        pages[f"{lang} unknown receipt"] = open_case(client, new_receipt())
        pages[f"{lang} not found"] = client.get("/no-such-page")
        pages[f"{lang} method not allowed"] = client.get("/followup/message")
        pages[f"{lang} csrf"] = client.post("/report", data=report_answers())
        receipt_page = send_report(client, files=[(b"photo", "photo.jpg")])
        pages[f"{lang} receipt"] = receipt_page
        assert open_case(client, receipt_from(receipt_page)).status_code == 303
        reviewer = make_reviewer(database, "intake")
        with unit_of_work.transaction(database.sessionmaker) as db:
            [case] = [c for c in db.scalars(select(Case)) if c.id not in seen_cases]
            seen_cases.add(case.id)
            add_message_from_server(
                db,
                BlobStore(settings.blob_path),
                case=case,
                side=Side.REVIEWER,
                author_id=reviewer.id,
                text="Xem https://example.org và cho biết thêm.",
                attachments=[],
            )
        client.submit(
            "/followup/case",
            {"body": "Vâng", "attachments": (io.BytesIO(b"more"), "more.pdf")},
            action="/followup/message",
            content_type="multipart/form-data",
        )
        pages[f"{lang} case"] = client.get("/followup/case")
        pages[f"{lang} empty message"] = client.submit(
            "/followup/case", {"body": ""}, action="/followup/message"
        )
    return pages


def test_no_page_loads_anything_from_another_origin_or_runs_inline_code(
    intake_app: Flask, database: Database, settings: Settings
) -> None:
    pages = every_page(intake_app, database, settings)
    expected_status = {
        "landing": 200,
        "report": 200,
        "followup": 200,
        "form errors": 400,
        "receipt typo": 400,
        "unknown receipt": 400,
        "not found": 404,
        "method not allowed": 405,
        "csrf": 400,
        "receipt": 200,
        "case": 200,
        "empty message": 400,
    }
    allowed = 0
    for name, response in pages.items():
        assert response.status_code == expected_status[name.split(" ", 1)[1]], name
        assert response.mimetype == "text/html", name
        result = audit(response.get_data(as_text=True))
        assert result.problems == [], name
        allowed += result.allowed_links
    # The reviewer's link was seen, and allowed only inside the message text.
    assert allowed >= 2


def test_the_busy_page_is_clean_too(env: dict[str, str], database: Database) -> None:
    from app.factory import create_intake_app

    app = create_intake_app(
        load_settings({**env, "LIEMCHINH_INTAKE_RATE_LIMIT": "1 per hour"}), database
    )
    client = _client(app)
    unknown = new_receipt()  # well formed: a typo would be refused before any budget
    open_case(client, unknown)
    busy = open_case(client, unknown)
    assert busy.status_code == 429
    assert audit(busy.get_data(as_text=True)).problems == []


@pytest.mark.parametrize(
    ("lang", "phrases"),
    [
        (
            "vi",
            [
                "địa chỉ IP",
                "Tor Browser",
                "Tài liệu và ảnh có thể chứa tên, thiết bị hoặc vị trí của bạn",
            ],
        ),
        (
            "en",
            [
                "IP address",
                "Tor Browser",
                "Documents and photos can carry your name, your device or your location",
            ],
        ),
    ],
)
def test_landing_and_report_pages_say_what_is_and_is_not_protected(
    intake_app: Flask, lang: str, phrases: list[str]
) -> None:
    client = _client(intake_app)
    for path in (f"/?lang={lang}", "/report"):
        html = client.get(path).get_data(as_text=True)
        assert f'<html lang="{lang}">' in html, path
        for phrase in phrases:
            assert phrase in html, (path, phrase)


def _cookie_attributes(header: str) -> tuple[str, str, dict[str, str]]:
    first, *rest = [part.strip() for part in header.split(";")]
    name, _, value = first.partition("=")
    attrs = {}
    for part in rest:
        key, _, val = part.partition("=")
        attrs[key.lower()] = val
    return name, value, attrs


def test_cookies_are_session_only_httponly_and_strict(intake_client: CsrfClient) -> None:
    landing = intake_client.get("/")
    assert landing.status_code == 200
    assert landing.headers.getlist("Set-Cookie") == []

    responses = [landing]
    responses.append(intake_client.get("/report"))
    receipt = receipt_from(send_report(intake_client, files=[(b"scan", "scan.pdf")]))
    responses.append(intake_client.get("/followup"))
    responses.append(open_case(intake_client, receipt))
    responses.append(intake_client.get("/followup/case?lang=en"))
    responses.append(
        intake_client.submit("/followup/case", {"body": "Hello"}, action="/followup/message")
    )
    responses.append(intake_client.submit("/followup/case", {}, action="/followup/logout"))

    headers = [h for r in responses for h in r.headers.getlist("Set-Cookie")]
    assert len(headers) >= 3  # set, rotated at opening, deleted at logout
    deletions = 0
    for header in headers:
        name, value, attrs = _cookie_attributes(header)
        assert name == "lc_intake", header
        assert "httponly" in attrs, header
        assert attrs.get("samesite", "").lower() == "strict", header
        assert attrs.get("path") == "/", header
        assert "domain" not in attrs, header
        if value:
            assert "expires" not in attrs and "max-age" not in attrs, header
        else:  # only logout clears the cookie, and then it is expired at once
            deletions += 1
            assert attrs.get("max-age") == "0" or "1970" in attrs.get("expires", ""), header
    assert deletions == 1


def test_language_switch_works_and_sticks(intake_client: CsrfClient) -> None:
    vietnamese = intake_client.get("/report").get_data(as_text=True)
    assert '<html lang="vi">' in vietnamese and "Gửi phản ánh" in vietnamese

    english = intake_client.get("/report?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "Send a report" in english
    assert "Gửi phản ánh" not in english

    following = intake_client.get("/followup").get_data(as_text=True)
    assert '<html lang="en">' in following and "Follow up on a report" in following
    refused = send_report(intake_client, report_answers(summary=""))
    assert refused.status_code == 400 and "is required" in refused.get_data(as_text=True)

    back = intake_client.get("/?lang=vi").get_data(as_text=True)
    assert '<html lang="vi">' in back
    assert '<html lang="vi">' in intake_client.get("/report").get_data(as_text=True)
