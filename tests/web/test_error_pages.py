"""Errors of the request itself, on both apps: a 405 names the allowed methods (and is
still the app's own page); a malformed multipart body gets its own message, not the
CSRF one, and stores nothing."""

from __future__ import annotations

import pytest

from app.database import Database
from app.models import Blob, Case
from config import Settings
from tests.conftest import CsrfClient
from tests.reliability.harness import assert_store_consistent, count_rows, report_answers

VI_NOT_ALLOWED = "Không thể dùng trang này theo cách đó."
VI_CSRF = "Trang đã mở quá lâu"
VI_MALFORMED = "Không đọc được dữ liệu trình duyệt gửi lên"
EN_MALFORMED = "What your browser sent could not be read"


def _allowed(header: str) -> set[str]:
    return {m.strip() for m in header.split(",")}


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/", {"GET"}),
        ("PUT", "/report", {"GET", "POST"}),
        ("DELETE", "/followup", {"GET", "POST"}),
    ],
)
def test_intake_405_names_the_allowed_methods(
    intake_client: CsrfClient, method: str, path: str, allowed: set[str]
) -> None:
    response = intake_client.open(path, method=method)
    assert response.status_code == 405
    assert allowed <= _allowed(response.headers["Allow"])
    assert VI_NOT_ALLOWED in response.get_data(as_text=True)


def test_intake_api_405_is_json_with_allow(intake_client: CsrfClient) -> None:
    response = intake_client.post("/api/v1/submission")
    assert response.status_code == 405
    assert "GET" in _allowed(response.headers["Allow"])
    assert response.get_json()["error"] == "method_not_allowed"


def test_review_405_names_the_allowed_methods(review_client: CsrfClient) -> None:
    response = review_client.post("/inbox")
    assert response.status_code == 405
    assert "GET" in _allowed(response.headers["Allow"])
    assert VI_NOT_ALLOWED in response.get_data(as_text=True)
    response = review_client.put("/login")
    assert response.status_code == 405
    assert {"GET", "POST"} <= _allowed(response.headers["Allow"])


def _malformed_bodies(hidden: dict[str, str]) -> list[tuple[bytes, str]]:
    """Bodies a browser never sends: cut off inside a file (after the intake already
    started encrypting it), a part without Content-Disposition, no boundary at all."""
    b = "----lcbroken"
    fields = b"".join(
        f'--{b}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in {**hidden, **report_answers()}.items()
        if isinstance(v, str)
    )
    cut_file = (
        fields
        + f'--{b}\r\nContent-Disposition: form-data; name="attachments"; '
        f'filename="biên bản họp.pdf"\r\n\r\n'.encode()
        + b"%PDF-1.4 bien ban " * 4000
    )
    no_disposition = (
        fields + f"--{b}\r\nContent-Type: text/plain\r\n\r\nxin chao\r\n--{b}--\r\n".encode()
    )
    ctype = f"multipart/form-data; boundary={b}"
    return [(cut_file, ctype), (no_disposition, ctype), (fields, "multipart/form-data")]


def test_malformed_multipart_report_gets_its_own_message(
    intake_client: CsrfClient, database: Database, settings: Settings
) -> None:
    for body, ctype in _malformed_bodies(intake_client.hidden_fields("/report")):
        response = intake_client.post("/report", data=body, content_type=ctype)
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert VI_MALFORMED in html
        assert VI_CSRF not in html
        assert count_rows(database, Case) == 0
        assert count_rows(database, Blob) == 0
        assert_store_consistent(database, settings)
    intake_client.get("/?lang=en")
    body, ctype = _malformed_bodies(intake_client.hidden_fields("/report"))[0]
    response = intake_client.post("/report", data=body, content_type=ctype)
    assert response.status_code == 400 and EN_MALFORMED in response.get_data(as_text=True)


def test_malformed_multipart_api_gets_json(intake_client: CsrfClient) -> None:
    token = intake_client.csrf_token("/report")
    body, ctype = _malformed_bodies({})[1]
    response = intake_client.post(
        "/api/v1/reports", data=body, content_type=ctype, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "malformed_request"


def test_malformed_multipart_on_the_review_app(review_client: CsrfClient) -> None:
    body, ctype = _malformed_bodies(review_client.hidden_fields("/login"))[1]
    response = review_client.post("/login", data=body, content_type=ctype)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert VI_MALFORMED in html
    assert "CSRF" not in html
