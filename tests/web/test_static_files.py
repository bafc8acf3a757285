"""Static files compressed for the browsers that accept it, pages never, through gunicorn.

Content-Encoding, Vary and Content-Length are what a browser acts on, so the checks run
against the real server, as a browser on a slow link would see them.
"""

from __future__ import annotations

import gzip
import http.client
import os
from pathlib import Path

import brotli
import pytest
from flask import Flask

from app.database import Database
from app.web.static_files import StaticFiles, choose_encoding
from tests.reliability.harness import GunicornServer

STATIC = Path(__file__).resolve().parents[2] / "app" / "static"


def fetch(port: int, path: str, accept_encoding: str | None) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {} if accept_encoding is None else {"Accept-Encoding": accept_encoding}
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


@pytest.mark.slow
def test_script_is_compressed_only_for_browsers_that_accept_it(
    env: dict[str, str], database: Database, tmp_path: Path
) -> None:
    script = (STATIC / "js" / "intake.js").read_bytes()
    with GunicornServer(env, tmp_path / "intake.log", workers=1, threads=2) as server:
        _, br_headers, br_body = fetch(server.port, "/static/js/intake.js", "gzip, deflate, br")
        _, gz_headers, gz_body = fetch(server.port, "/static/js/intake.js", "gzip")
        _, plain_headers, plain_body = fetch(server.port, "/static/js/intake.js", None)
        refused = fetch(server.port, "/static/js/intake.js", "br;q=0, gzip;q=0")
        page = fetch(server.port, "/report", "gzip, deflate, br")
        icon = fetch(server.port, "/favicon.ico", "gzip, br")
        escape = fetch(server.port, "/static/../../wsgi.py", None)

    assert br_headers["content-encoding"] == "br"
    assert brotli.decompress(br_body) == script
    assert len(br_body) < len(script) / 3, (len(br_body), len(script))
    assert gz_headers["content-encoding"] == "gzip"
    assert gzip.decompress(gz_body) == script
    # Positive control: a browser that does not ask gets the file as it is.
    assert "content-encoding" not in plain_headers and plain_body == script
    assert "content-encoding" not in refused[1] and refused[2] == script
    for headers in (br_headers, gz_headers, plain_headers):
        assert headers["vary"] == "Accept-Encoding"
        assert headers["cache-control"] == "no-store"  # see app/web/static_files.py
        assert headers["content-type"] == "text/javascript; charset=utf-8"  # RFC 9239

    # A page carries secrets (the CSRF token) next to text others influence: never
    # compressed (BREACH), whatever the browser accepts.
    status, page_headers, page_body = page
    assert status == 200 and b'name="csrf_token"' in page_body
    assert "content-encoding" not in page_headers

    status, icon_headers, icon_body = icon
    assert status == 200 and icon_headers["content-type"] in (
        "image/vnd.microsoft.icon",
        "image/x-icon",
    )
    assert (STATIC / "favicon.ico").read_bytes() in (icon_body, gzip_or_br(icon_headers, icon_body))
    assert escape[0] == 404


def gzip_or_br(headers: dict[str, str], body: bytes) -> bytes:
    encoding = headers.get("content-encoding")
    if encoding == "br":
        return bytes(brotli.decompress(body))
    if encoding == "gzip":
        return gzip.decompress(body)
    return body


def test_review_app_has_the_icon_too(review_app: Flask) -> None:
    response = review_app.test_client().get("/favicon.ico")
    assert response.status_code == 200
    assert gzip_or_br(dict(response.headers), response.get_data()).startswith(b"\x00\x00\x01\x00")


def test_a_rebuilt_file_is_read_again(tmp_path: Path, intake_app: Flask) -> None:
    (tmp_path / "js").mkdir()
    built = tmp_path / "js" / "bundle.js"
    built.write_text("var tờ = 'bản cũ';" * 200, encoding="utf-8")
    files = StaticFiles(tmp_path)
    with intake_app.test_request_context(headers={"Accept-Encoding": "gzip"}):
        first = files.respond("js/bundle.js")
        built.write_text("var tờ = 'bản mới hơn';" * 200, encoding="utf-8")
        os.utime(built, ns=(1, 1))  # a different stamp even within the same tick
        second = files.respond("js/bundle.js")
    assert "bản cũ" in gzip.decompress(first.get_data()).decode()
    assert "bản mới hơn" in gzip.decompress(second.get_data()).decode()
    assert first.headers["ETag"] != second.headers["ETag"]


def test_smallest_accepted_encoding_wins() -> None:
    from werkzeug.datastructures import Accept
    from werkzeug.http import parse_accept_header

    available = {"identity": b"x" * 100, "gzip": b"x" * 30, "br": b"x" * 20}
    assert choose_encoding(available, parse_accept_header("gzip, br", Accept)) == "br"
    assert choose_encoding(available, parse_accept_header("gzip", Accept)) == "gzip"
    assert choose_encoding(available, parse_accept_header("", Accept)) == "identity"
    assert choose_encoding(available, parse_accept_header("br;q=0", Accept)) == "identity"
