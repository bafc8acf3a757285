"""Follow-up, as a reporter lives it: typing the receipt, reading the case, talking with
the reviewers, closing the report. Reviewer replies are written with the domain
function (the reviewer face has its own tests)."""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

import app.cases.followup as followup_domain
from app.cases import unit_of_work
from app.cases.messages import add_message_from_server
from app.database import Database
from app.models import Blob, Case, Message, WebSession, utcnow
from app.models.vocabulary import Side
from app.storage import BlobStore
from config import Settings
from crypto import derive_receipt_keys
from crypto.receipts import new_receipt
from tests.conftest import CsrfClient
from tests.factories import ReviewerKeys, make_reviewer, open_case, receipt_from, send_report

COOKIE = "lc_intake"


@pytest.fixture
def derivations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every Argon2id derivation the follow-up makes, by receipt digits."""
    calls: list[str] = []
    real = derive_receipt_keys  # what app.cases.followup imports

    def counting(digits: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(digits)
        return real(digits, *args, **kwargs)

    monkeypatch.setattr(followup_domain, "derive_receipt_keys", counting)
    return calls


def new_client(app: Flask) -> CsrfClient:
    app.test_client_class = CsrfClient
    client = app.test_client()
    assert isinstance(client, CsrfClient)
    return client


def reported(client: CsrfClient, files: list[tuple[bytes, str]] | None = None) -> str:
    response = send_report(client, files=files)
    assert response.status_code == 200
    return receipt_from(response)


def opened(client: CsrfClient, files: list[tuple[bytes, str]] | None = None) -> str:
    receipt = reported(client, files)
    response = open_case(client, receipt)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/followup/case")
    return receipt


def case_page(client: CsrfClient) -> str:
    response = client.get("/followup/case")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def digits_of(receipt: str) -> str:
    return receipt.replace(" ", "")


def typo(receipt: str, position: int = 7) -> str:
    digits = digits_of(receipt)
    changed = str((int(digits[position]) + 3) % 10)
    return digits[:position] + changed + digits[position + 1 :]


def the_case(database: Database) -> Case:
    with database.read_session() as db:
        return db.scalars(select(Case)).one()


def count(database: Database, model: type) -> int:
    with database.read_session() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def stored_files(settings: Settings) -> set[str]:
    return {str(p) for p in settings.blob_path.rglob("*") if p.is_file()}


# -- typing the receipt ------------------------------------------------------------------


def test_a_typo_is_told_as_such_before_any_argon2id_work(
    intake_client: CsrfClient, derivations: list[str]
) -> None:
    receipt = reported(intake_client)
    response = open_case(intake_client, typo(receipt))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Mã tiếp nhận có lỗi gõ (chữ số kiểm tra không khớp)" in html
    assert "Không có phản ánh nào khớp" not in html
    assert derivations == []


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1234 5678 9012 3456", "Mã tiếp nhận có 20 chữ số"),
        ("1234 5678 9012 3456 7890 1", "Mã tiếp nhận có 20 chữ số"),
        ("", "Mã tiếp nhận có 20 chữ số"),
        ("1234 5678 9O12 3456 7890", "chỉ gồm chữ số"),
        ("abcd efgh ijkl mnop qrst", "chỉ gồm chữ số"),
    ],
)
def test_wrong_length_and_letters_get_their_own_messages(
    intake_client: CsrfClient, derivations: list[str], typed: str, expected: str
) -> None:
    response = open_case(intake_client, typed)
    assert response.status_code == 400
    assert expected in response.get_data(as_text=True)
    assert derivations == []


def test_unknown_receipt_gets_one_uniform_message_after_exactly_one_derivation(
    intake_client: CsrfClient, derivations: list[str]
) -> None:
    real = reported(intake_client)
    stranger = new_receipt()
    assert stranger != real
    response = open_case(intake_client, stranger)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Không có phản ánh nào khớp với mã tiếp nhận này" in html
    assert derivations == [digits_of(stranger)]
    assert stranger not in html and digits_of(stranger) not in html  # not echoed back
    assert intake_client.get("/followup/case").status_code == 302  # nothing opened


def test_receipts_typed_in_the_ways_people_type_them_open_the_case(
    intake_app: Flask, intake_client: CsrfClient, derivations: list[str]
) -> None:
    receipt = reported(intake_client)
    digits = digits_of(receipt)
    groups = receipt.split(" ")
    full_width = "".join(unicodedata.lookup(f"FULLWIDTH DIGIT {_NAMES[int(d)]}") for d in digits)
    forms = [
        receipt,
        digits,
        "-".join(groups),
        ".".join(groups),
        f"  \t{receipt}  \n",
        "  ".join(groups),
        full_width,
        " ".join(full_width[i : i + 4] for i in range(0, 20, 4)),
    ]
    for typed in forms:
        client = new_client(intake_app)
        response = open_case(client, typed)
        assert response.status_code == 303, typed
        assert "Cán bộ phường đòi tiền" in case_page(client), typed
    assert derivations == [digits] * len(forms)


_NAMES = ["ZERO", "ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX", "SEVEN", "EIGHT", "NINE"]


# -- the receipt stays out of URLs -------------------------------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"href", "src", "action", "formaction", "srcset"} and value:
                self.urls.append(value)


def links_in(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.urls


def test_the_receipt_never_appears_in_a_url(intake_client: CsrfClient) -> None:
    responses: list[Any] = []

    def track(response: Any) -> Any:
        responses.append(response)
        return response

    track(intake_client.get("/"))
    track(intake_client.get("/report"))
    receipt = receipt_from(track(send_report(intake_client, files=[(b"scan", "scan.pdf")])))
    track(intake_client.get("/followup"))
    track(open_case(intake_client, receipt))
    track(intake_client.get(responses[-1].headers["Location"]))
    track(intake_client.get("/followup"))  # an open session goes straight to the case
    track(
        intake_client.submit(
            "/followup/case",
            {"body": "Thêm thông tin"},
            action="/followup/message",
            content_type="multipart/form-data",
        )
    )
    track(intake_client.get("/followup/case"))
    track(intake_client.submit("/followup/case", {}, action="/followup/logout"))
    track(intake_client.get("/followup/case"))

    digits = digits_of(receipt)
    forms = {digits, receipt, receipt.replace(" ", "-"), receipt.replace(" ", "%20")}
    forms |= {receipt.replace(" ", "+")}
    urls: list[str] = []
    for response in responses:
        urls.append(response.request.url)
        urls.extend(response.headers.getlist("Location"))
        if response.mimetype == "text/html":
            urls.extend(links_in(response.get_data(as_text=True)))
    assert len(urls) > 20
    assert any("/followup/case" in u for u in urls)  # the flow really happened
    leaked = [u for u in urls for form in forms if form in u]
    assert leaked == []


# -- the case page -----------------------------------------------------------------------


def test_opening_rotates_the_session_and_shows_a_coarse_status_without_the_reference(
    intake_client: CsrfClient, database: Database
) -> None:
    receipt = reported(intake_client)
    intake_client.get("/followup")
    before = intake_client.get_cookie(COOKIE)
    assert before is not None  # the form's CSRF token lives in the session
    response = open_case(intake_client, receipt)
    assert response.status_code == 303
    after = intake_client.get_cookie(COOKIE)
    assert after is not None and after.value != before.value
    # The pre-login token opens nothing.
    intake_client.set_cookie(COOKIE, before.value)
    assert intake_client.get("/followup/case").status_code == 302
    intake_client.set_cookie(COOKIE, after.value)

    html = case_page(intake_client)
    assert "Đã tiếp nhận" in html
    reference = the_case(database).reference
    assert reference.startswith("CT-")
    assert reference not in html and not re.search(r"CT-\d", html)


class _StatusText(HTMLParser):
    """The text of the page's ``.status`` element."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if self.depth or "status" in classes:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.text.append(data)


def status_text(html: str) -> str:
    parser = _StatusText()
    parser.feed(html)
    return " ".join("".join(parser.text).split())


def set_status(database: Database, status: str) -> None:
    with database.session() as db:
        db.execute(update(Case).values(status=status))


def test_routed_cases_are_shown_coarsely_whichever_body_handles_them(
    intake_client: CsrfClient, database: Database
) -> None:
    opened(intake_client)
    assert "Đã tiếp nhận" in status_text(case_page(intake_client))
    shown = {}
    for status in ("routed_investigation", "routed_inspection"):
        set_status(database, status)
        html = case_page(intake_client)
        shown[status] = status_text(html)
        assert "Đã chuyển đến cơ quan có thẩm quyền" in shown[status]
        assert "điều tra" not in html.lower()
        assert "thanh tra" not in shown[status].lower()
        english = intake_client.get("/followup/case?lang=en").get_data(as_text=True)
        assert "Forwarded to the competent authority" in english
        assert "investigation" not in english.lower() and "inspection" not in english.lower()
        intake_client.get("/followup/case?lang=vi")
    assert shown["routed_investigation"] == shown["routed_inspection"]


class _Thread(HTMLParser):
    """Messages of the thread: (meta text, text HTML pieces, anchors in the text)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[set[str]] = []
        self.messages: list[dict[str, Any]] = []

    def _inside(self, cls: str) -> bool:
        return any(cls in classes for classes in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = set((dict(attrs).get("class") or "").split())
        if tag == "li" and "message" in classes:
            self.messages.append({"meta": "", "text": "", "anchors": [], "tags": []})
        if self.messages and self._inside("text") and self._inside("message"):
            self.messages[-1]["tags"].append(tag)
            if tag == "a":
                self.messages[-1]["anchors"].append(dict(attrs))
        if tag not in {"br", "input", "img", "meta", "link", "hr"}:
            self.stack.append(classes)

    def handle_endtag(self, tag: str) -> None:
        if tag not in {"br", "input", "img", "meta", "link", "hr"} and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not self.messages or not self._inside("message"):
            return
        if self._inside("meta"):
            self.messages[-1]["meta"] += data
        elif self._inside("text"):
            self.messages[-1]["text"] += data


def thread_of(html: str) -> list[dict[str, Any]]:
    parser = _Thread()
    parser.feed(html)
    return parser.messages


def reviewer_reply(
    database: Database, settings: Settings, reviewer: ReviewerKeys, text: str
) -> None:
    with unit_of_work.transaction(database.sessionmaker) as db:
        case = db.scalars(select(Case)).one()
        add_message_from_server(
            db,
            BlobStore(settings.blob_path),
            case=case,
            side=Side.REVIEWER,
            author_id=reviewer.id,
            text=text,
            attachments=[],
        )


def test_reviewer_reply_is_anonymous_escaped_and_its_links_are_safe(
    intake_client: CsrfClient, database: Database, settings: Settings
) -> None:
    reviewer = make_reviewer(database, "intake", username="nguyen-van-thanh")
    opened(intake_client)
    reviewer_reply(
        database,
        settings,
        reviewer,
        "Xin cảm ơn. <script>alert('x')</script> Xem hướng dẫn tại https://example.org nhé.",
    )
    html = case_page(intake_client)
    [message] = thread_of(html)
    assert re.fullmatch(r"Thanh tra viên · \d{2}/\d{2}/\d{4}", message["meta"].strip())
    assert "nguyen-van-thanh" not in html
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(" in html
    assert "<script>alert('x')</script>" in message["text"]  # shown as text
    assert "script" not in message["tags"]
    [anchor] = message["anchors"]
    assert anchor["href"] == "https://example.org"
    assert set((anchor.get("rel") or "").split()) == {"noopener", "noreferrer", "nofollow"}


# -- leaving -----------------------------------------------------------------------------


def test_closing_the_report_destroys_the_session(
    intake_client: CsrfClient, database: Database
) -> None:
    opened(intake_client)
    cookie = intake_client.get_cookie(COOKIE)
    assert cookie is not None
    assert count(database, WebSession) == 1
    response = intake_client.submit("/followup/case", {}, action="/followup/logout")
    assert response.status_code == 303
    gone = intake_client.get("/followup/case")
    assert gone.status_code == 302 and gone.headers["Location"].endswith("/followup")
    assert count(database, WebSession) == 0
    # A copy of the old cookie opens nothing either.
    intake_client.set_cookie(COOKIE, cookie.value)
    again = intake_client.get("/followup/case")
    assert again.status_code == 302 and again.headers["Location"].endswith("/followup")


def test_idle_session_expires(intake_client: CsrfClient, database: Database) -> None:
    opened(intake_client)
    assert intake_client.get("/followup/case").status_code == 200
    with database.session() as db:
        db.execute(update(WebSession).values(idle_expires_at=utcnow() - timedelta(seconds=1)))
    response = intake_client.get("/followup/case")
    assert response.status_code == 302 and response.headers["Location"].endswith("/followup")


# -- the reporter's messages -------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {"body": ""},
        {"body": "   \r\n  "},
        {"body": "", "attachments": (io.BytesIO(b""), "")},  # a file input left blank
    ],
    ids=["no-text", "blank-text", "blank-file-input"],
)
def test_an_empty_message_is_refused_and_nothing_stored(
    intake_client: CsrfClient, database: Database, settings: Settings, data: dict[str, Any]
) -> None:
    opened(intake_client)
    blobs, files = count(database, Blob), stored_files(settings)
    response = intake_client.submit(
        "/followup/case", data, action="/followup/message", content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert "Vui lòng viết tin nhắn hoặc đính kèm tệp." in response.get_data(as_text=True)
    assert count(database, Message) == 0
    assert count(database, Blob) == blobs and stored_files(settings) == files


def _attachment_links(html: str) -> list[tuple[str, str]]:
    """(href, file name) of every download link on a case page."""
    found: list[tuple[str, str]] = re.findall(
        r'<a href="(/followup/attachments/[^"]+)">([^<]+)</a>', html
    )
    return found


def test_message_with_attachment_is_downloadable_by_the_reporter(
    intake_client: CsrfClient, database: Database
) -> None:
    opened(intake_client)
    scan = b"%PDF-1.7 bien ban hop " + bytes(range(256)) * 40
    response = intake_client.submit(
        "/followup/case",
        {"body": "Tôi gửi thêm biên bản.", "attachments": (io.BytesIO(scan), "bien-ban.pdf")},
        action="/followup/message",
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    html = case_page(intake_client)
    [message] = thread_of(html)
    assert message["meta"].startswith("Bạn") and "Tôi gửi thêm biên bản." in message["text"]
    links = dict((name, href) for href, name in _attachment_links(html))
    download = intake_client.get(links["bien-ban.pdf"])
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert "bien-ban.pdf" in download.headers["Content-Disposition"]
    assert download.data == scan
    with database.read_session() as db:
        assert db.scalars(select(Message.author_side)).all() == ["reporter"]


def test_another_reporters_attachment_is_not_found(intake_app: Flask) -> None:
    alice, bob = new_client(intake_app), new_client(intake_app)
    opened(alice, files=[(b"alice's evidence", "alice.pdf")])
    alice.submit(
        "/followup/case",
        {"body": "more", "attachments": (io.BytesIO(b"alice's second file"), "alice-2.pdf")},
        action="/followup/message",
        content_type="multipart/form-data",
    )
    opened(bob, files=[(b"bob's evidence", "bob.pdf")])
    alice_links = [href for href, _ in _attachment_links(case_page(alice))]
    bob_links = [href for href, _ in _attachment_links(case_page(bob))]
    assert len(alice_links) == 2 and len(bob_links) == 1
    for href in alice_links:
        assert alice.get(href).status_code == 200  # her own: fine
        refused = bob.get(href)
        assert refused.status_code == 404
        assert b"alice" not in refused.data
    assert bob.get(bob_links[0]).data == b"bob's evidence"


def _logged_out(client: CsrfClient) -> None:
    opened(client)
    client.post("/followup/logout", data={"csrf_token": client.csrf_token("/followup/case")})


def test_message_after_logout_is_not_stored(
    intake_client: CsrfClient, database: Database, settings: Settings
) -> None:
    _logged_out(intake_client)
    files = stored_files(settings)
    response = intake_client.post(
        "/followup/message",
        data={"csrf_token": intake_client.csrf_token("/report"), "body": "late"},
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/followup")
    assert count(database, Message) == 0 and stored_files(settings) == files


def test_message_with_a_file_after_the_session_ended_leaves_nothing_and_says_why(
    intake_client: CsrfClient, database: Database, settings: Settings
) -> None:
    _logged_out(intake_client)
    files = stored_files(settings)
    response = intake_client.post(
        "/followup/message",
        data={
            "csrf_token": intake_client.csrf_token("/report"),
            "body": "late",
            "attachments": (io.BytesIO(b"late file"), "late.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert count(database, Message) == 0
    assert stored_files(settings) == files
    redirected = response.status_code in (302, 303) and response.headers["Location"].endswith(
        "/followup"
    )
    assert redirected or "Liêm Chính" in response.get_data(as_text=True)
