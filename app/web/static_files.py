"""Static files (the intake's script, the style sheet, the icon), compressed once in memory.

Reporters arrive over Tor or a 3G phone, where every kilobyte of the report page costs
seconds. The script and the style sheet are text and shrink to about a third, so each is
compressed once per version of the file, with brotli (Accept-Encoding ``br``) and gzip,
and the smallest encoding the browser accepts is sent. Compressing by hand here, not in
the proxy, because a proxy's compression would also apply to HTML: a page that carries a
secret (the CSRF token, a receipt, decrypted text) next to text an attacker can influence
must never be compressed (BREACH). Only files under ``static/`` are.

Caching: every response, static files included, keeps the baseline ``no-store``
(app/web/headers.py). A browser cache entry for the intake's script is a trace on a
shared or seized device that the intake was opened, and it survives the tab; reporters
come back a handful of times, so a cache would save them little. Compression, not
caching, is what meets the page-weight target.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from threading import Lock

import brotli
from flask import Flask, Response, abort, request
from werkzeug.datastructures import Accept
from werkzeug.security import safe_join

# Types worth compressing; images and fonts are compressed already.
COMPRESSIBLE = frozenset({".js", ".css", ".svg", ".json", ".txt", ".map", ".ico"})
FAVICON = "favicon.ico"


@dataclass(frozen=True)
class _Version:
    """One version of one static file, as it was on disk when first asked for."""

    stamp: tuple[int, int]  # (mtime_ns, size): a rebuilt file is read again
    mimetype: str
    etag: str
    encodings: dict[str, bytes]  # "identity", and "br"/"gzip" when they are smaller


def _encode(path: Path, stamp: tuple[int, int]) -> _Version:
    raw = path.read_bytes()
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if mimetype.startswith("text/") or mimetype in ("application/javascript", "image/svg+xml"):
        mimetype += "; charset=utf-8"
    encodings = {"identity": raw}
    if path.suffix in COMPRESSIBLE:
        candidates = {
            "gzip": gzip.compress(raw, compresslevel=9, mtime=0),
            "br": brotli.compress(raw, quality=11),
        }
        encodings.update({name: data for name, data in candidates.items() if len(data) < len(raw)})
    etag = hashlib.sha256(raw).hexdigest()[:32]
    return _Version(stamp=stamp, mimetype=mimetype, etag=etag, encodings=encodings)


# Shared by every app in the process: compressing the script at the best ratios takes a
# third of a second, paid once per version of the file by the first visitor who needs it.
_VERSIONS: dict[Path, _Version] = {}
_VERSIONS_LOCK = Lock()


class StaticFiles:
    """The ``static`` endpoint of one app."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def version(self, filename: str) -> _Version | None:
        joined = safe_join(str(self.folder), filename)
        if joined is None:
            return None
        path = Path(joined)
        try:
            info = path.stat()
        except OSError:
            return None
        if not path.is_file():
            return None
        stamp = (info.st_mtime_ns, info.st_size)
        with _VERSIONS_LOCK:
            known = _VERSIONS.get(path)
            if known is None or known.stamp != stamp:
                known = _VERSIONS[path] = _encode(path, stamp)
        return known

    def respond(self, filename: str) -> Response:
        found = self.version(filename)
        if found is None:
            abort(404)
        encoding = choose_encoding(found.encodings, request.accept_encodings)
        response = Response(found.encodings[encoding], mimetype=None)
        response.headers["Content-Type"] = found.mimetype
        if encoding != "identity":
            response.headers["Content-Encoding"] = encoding
        if len(found.encodings) > 1:
            response.headers["Vary"] = "Accept-Encoding"
        response.set_etag(f"{found.etag}-{encoding}")
        return response


def choose_encoding(available: dict[str, bytes], accepted: Accept) -> str:
    """The smallest encoding that the client accepts (quality above 0)."""
    usable = [name for name in available if name == "identity" or accepted.quality(name) > 0]
    return min(usable, key=lambda name: len(available[name]))


def init_static_files(app: Flask) -> StaticFiles:
    """Serve ``static/`` through :class:`StaticFiles`, and ``/favicon.ico`` (browsers ask
    for it on every site; a 404 would be one more round trip and an error in the log)."""
    assert app.static_folder is not None
    files = StaticFiles(Path(app.static_folder))
    app.view_functions["static"] = files.respond
    app.add_url_rule("/favicon.ico", "favicon", lambda: files.respond(FAVICON), methods=["GET"])
    return files
