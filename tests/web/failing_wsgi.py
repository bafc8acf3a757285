"""The real apps, each with a few routes that fail the way nothing in Flask catches, for
tests/web/test_server_errors.py (served by gunicorn: ``tests.web.failing_wsgi:intake_app``).

- ``/_test/bad-header``: a header value gunicorn refuses (not Latin-1);
- ``/_test/broken-stream``: a streamed body that fails before its first chunk;
- ``/_test/cut-stream``: a streamed body that fails after its first chunk.

The exception messages carry a marker that must never reach a log. ``*_unguarded`` are
the same apps without the guard: the positive control.
"""

from __future__ import annotations

from collections.abc import Iterator

from flask import Flask, Response

from app.factory import create_intake_app, create_review_app

SECRET_MARKER = "blob-ab12-secret-marker"


def _fail(where: str) -> Iterator[bytes]:
    raise RuntimeError(f"{SECRET_MARKER} failed {where}")
    yield b""  # pragma: no cover - makes this a generator


def _cut() -> Iterator[bytes]:
    yield b"x" * 70000
    raise RuntimeError(f"{SECRET_MARKER} failed part-way")


def with_failing_routes(app: Flask) -> Flask:
    app.add_url_rule(
        "/_test/bad-header",
        "test_bad_header",
        lambda: Response("x", headers={"X-File-Name": "biên bản họp.pdf"}),
    )
    app.add_url_rule(
        "/_test/broken-stream", "test_broken_stream", lambda: Response(_fail("at once"))
    )
    app.add_url_rule("/_test/cut-stream", "test_cut_stream", lambda: Response(_cut()))
    return app


def _unguarded(app: Flask) -> Flask:
    # ServerErrorGuard keeps the app it wraps as .wsgi_app.
    app.wsgi_app = getattr(app.wsgi_app, "wsgi_app", app.wsgi_app)  # type: ignore[method-assign]
    return app


intake_app = with_failing_routes(create_intake_app())
review_app = with_failing_routes(create_review_app())
intake_unguarded = _unguarded(with_failing_routes(create_intake_app()))
