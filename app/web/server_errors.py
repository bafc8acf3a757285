"""The app's own error page for every failure, even those Flask's error handling misses.

Flask turns an exception in a view into the face's 500 page. A few failures escape it
and reach the WSGI server, which then answers a bare English "Internal Server Error"
and logs the request line, with the time: on the intake, the path and time of a
reporter's visit. They are:

- a response header the server refuses (gunicorn accepts only Latin-1 values without
  control characters: a raw "biên bản họp.pdf" in a header was one);
- an exception in the first chunk of a streamed body (raised after the view returned);
- an exception in the 500 handler itself, or in the after-request hooks it runs.

:class:`ServerErrorGuard` wraps the Flask app: it checks the headers as gunicorn would
and pulls the first body chunk before anything is sent, and on any failure answers the
face's own 500 page (rendered by Flask in the visitor's language when that still works,
else the same page rendered in advance in Vietnamese and English). A failure after the
response started cannot become an error page any more: the connection is cut (see
:class:`_GuardedBody`), so the browser sees an incomplete download, never a complete one.

Logging: the intake logs an unhandled error as its exception type and stack only - no
request path or method, no exception message (a message can quote a blob key or a SQL
parameter), and no time stamp of its own. The review app logs like Flask (staff actions
keep exact times).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import re
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

from flask import Flask, session
from flask_babel import force_locale
from werkzeug.datastructures import LanguageAccept
from werkzeug.exceptions import InternalServerError
from werkzeug.http import parse_accept_header

from app.web.headers import BASELINE_HEADERS
from app.web.i18n import DEFAULT_LANGUAGE, FOLLOWS_BROWSER_KEY, LANGUAGES

StartResponse = Callable[..., Any]
ErrorLogger = Callable[[BaseException, dict[str, Any]], None]

# What gunicorn accepts (gunicorn/http/wsgi.py): a header name is an RFC 9110 token, a
# value holds no control character other than tab and fits in Latin-1.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE = re.compile(r"[ \t\x21-\x7e\x80-\xff]*")
_STATUS = re.compile(r"[1-5][0-9][0-9] [^\r\n]*")


class UnsendableResponse(Exception):
    """The app produced a status or header that the server would refuse."""


def check_sendable(status: str, headers: Iterable[tuple[str, str]]) -> None:
    if not isinstance(status, str) or not _STATUS.fullmatch(status):
        raise UnsendableResponse("invalid status line")
    for name, value in headers:
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise UnsendableResponse("invalid header name")
        if not isinstance(value, str) or not _HEADER_VALUE.fullmatch(value):
            # The name only: the value may carry what must not be logged.
            raise UnsendableResponse(f"header {name} has a value the server would refuse")


def _linked_language(environ: dict[str, Any]) -> str | None:
    """The language of a ``?lang=`` link, if the failed request was one."""
    query = str(environ.get("QUERY_STRING", ""))
    chosen = parse_qs(query).get("lang", [""])[-1]
    return chosen if chosen in LANGUAGES else None


def _language(environ: dict[str, Any], follow_browser: bool) -> str:
    """The page's language without the session (which may be what failed): ``?lang=``,
    then (review only, as in app.web.i18n) the browser's Accept-Language, then Vietnamese."""
    chosen = _linked_language(environ)
    if chosen is not None:
        return chosen
    if not follow_browser:
        return DEFAULT_LANGUAGE
    accept = parse_accept_header(environ.get("HTTP_ACCEPT_LANGUAGE"), LanguageAccept)
    return str(accept.best_match(LANGUAGES, default=DEFAULT_LANGUAGE) or DEFAULT_LANGUAGE)


class _GuardedBody:
    """The rest of a response body once its first chunk is out.

    A failure here comes after the status line and headers were sent. The response
    must not end normally (a chunked download would then look complete), so the error
    is re-raised as a reset connection: servers take that as the end of the connection
    and close it (gunicorn without logging the request), and the browser reports the
    download as failed.
    """

    def __init__(
        self,
        first: bytes | None,
        rest: Iterator[bytes],
        original: Iterable[bytes],
        log_error: ErrorLogger,
        environ: dict[str, Any],
    ) -> None:
        self._first = first
        self._rest = rest
        self._original = original
        self._log_error = log_error
        self._environ = environ

    def __iter__(self) -> Iterator[bytes]:
        if self._first is not None:
            yield self._first
        try:
            yield from self._rest
        except Exception as exc:
            self._log_error(exc, self._environ)
            raise ConnectionResetError(errno.ECONNRESET, "response cut after an error") from None

    def close(self) -> None:
        close = getattr(self._original, "close", None)
        if close is not None:
            close()


def _not_supported(_data: bytes) -> None:
    # The legacy write() callable of WSGI: Flask never uses it.
    raise NotImplementedError("write() is not supported behind ServerErrorGuard")


class ServerErrorGuard:
    def __init__(
        self,
        app: Flask,
        wsgi_app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]],
        prerendered: dict[str, bytes],
        log_error: ErrorLogger,
    ) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.prerendered = prerendered
        self.log_error = log_error

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started: list[Any] = []

        def capture(
            status: str,
            headers: list[tuple[str, str]],
            exc_info: tuple[type[BaseException], BaseException, TracebackType] | None = None,
        ) -> Callable[[bytes], None]:
            check_sendable(status, headers)
            started[:] = [status, headers]
            return _not_supported

        body: Iterable[bytes] | None = None
        try:
            body = self.wsgi_app(environ, capture)
            wrapper = environ.get("wsgi.file_wrapper")
            if wrapper is not None and isinstance(body, wrapper) and started:
                start_response(*started)  # a static file: let the server send it
                return body  # type: ignore[no-any-return]
            rest = iter(body)
            first = next(rest, None)
            if not started:
                raise UnsendableResponse("the app never started a response")
        except Exception as exc:
            close = getattr(body, "close", None)
            if close is not None:
                # The error page matters more than a second failure while closing.
                with contextlib.suppress(Exception):
                    close()
            self.log_error(exc, environ)
            return self.error_page(environ, start_response)
        start_response(*started)
        return _GuardedBody(first, rest, body, self.log_error, environ)

    def error_page(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        try:
            status, headers, page = self._render_with_flask(environ)
            check_sendable(status, headers)
        except Exception:
            status = "500 INTERNAL SERVER ERROR"
            page = self.prerendered[
                _language(environ, bool(self.app.config.get(FOLLOWS_BROWSER_KEY)))
            ]
            headers = [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(page))),
                *BASELINE_HEADERS.items(),
            ]
        start_response(status, headers)
        return [page]

    def _render_with_flask(
        self, environ: dict[str, Any]
    ) -> tuple[str, list[tuple[str, str]], bytes]:
        """The face's own 500 handler, in the visitor's language (their session)."""
        with self.app.request_context(environ):
            chosen = _linked_language(environ)
            if chosen is not None:
                # What app.web.i18n does before a request: the failed request may have
                # been the language link itself.
                session["lang"] = chosen
            response = self.app.make_response(self.app.handle_user_exception(InternalServerError()))
            response = self.app.process_response(response)
            page = response.get_data()
            response.headers["Content-Length"] = str(len(page))
            return response.status, response.headers.to_wsgi_list(), page


def prerender_error_pages(app: Flask, render: Callable[[], str]) -> dict[str, bytes]:
    """The face's 500 page in each language, rendered once at start-up, for when
    rendering at the time of the failure fails too."""
    pages = {}
    for language in LANGUAGES:
        with app.test_request_context("/"), force_locale(language):
            pages[language] = render().encode("utf-8")
    return pages


# -- logging -------------------------------------------------------------------------

_REPORTER_SAFE_LOGGER = "liemchinh.intake.errors"


def _reporter_safe_logger() -> logging.Logger:
    logger = logging.getLogger(_REPORTER_SAFE_LOGGER)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        # No %(asctime)s: the line must not date a reporter's visit.
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(logging.ERROR)
    return logger


def log_without_request(exc: BaseException, _environ: dict[str, Any] | None = None) -> None:
    """Where the code failed, not who asked or when: the exception's type and stack,
    without its message, the request's path or method."""
    stack = "".join(traceback.format_tb(exc.__traceback__))
    kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
    _reporter_safe_logger().error("unhandled %s\n%s", kind, stack.rstrip())


def log_with_request(app: Flask) -> ErrorLogger:
    def log(exc: BaseException, environ: dict[str, Any]) -> None:
        app.logger.error(
            "Exception on %s [%s]",
            environ.get("PATH_INFO", "?"),
            environ.get("REQUEST_METHOD", "?"),
            exc_info=(type(exc), exc, exc.__traceback__),
        )

    return log


def install_server_error_guard(
    app: Flask, *, render_error_page: Callable[[], str], reveal_request: bool
) -> None:
    """Wrap ``app`` so that every failure gets its own 500 page. ``reveal_request``:
    whether logs may name the request (the review app) or not (the intake)."""
    log_error = log_with_request(app) if reveal_request else log_without_request
    if not reveal_request:
        # Flask's own logging of a view's exception names the path, with a time stamp.
        def log_exception(exc_info: Any) -> None:
            log_without_request(exc_info[1])

        app.log_exception = log_exception  # type: ignore[method-assign]
    app.wsgi_app = ServerErrorGuard(  # type: ignore[method-assign]
        app, app.wsgi_app, prerender_error_pages(app, render_error_page), log_error
    )
