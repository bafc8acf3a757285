"""Where a "next" parameter may send a browser: only to a path on this origin.

A check on the raw text is not enough, because browsers clean a URL before they resolve
it (WHATWG URL standard): they drop leading and trailing spaces and control
characters, remove every tab, CR and LF anywhere, and read a backslash as a slash. So
``/\\t/evil.com`` (``/%09/evil.com`` in the query) becomes ``//evil.com``: another host.
The target is judged as the browser will see it, after percent-decoding it as often as
it still changes (a later hop could decode again), and anything doubtful is refused:
the caller then goes to its default page.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

MAX_TARGET_CHARS = 2000
_BROWSER_REMOVES = str.maketrans("", "", "\t\r\n")
_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))


def _as_browser_reads(text: str) -> str:
    return text.strip(_C0_AND_SPACE).translate(_BROWSER_REMOVES).replace("\\", "/")


def _is_local_path(text: str) -> bool:
    seen = _as_browser_reads(text)
    if not seen.startswith("/") or seen.startswith("//"):
        return False
    parts = urlsplit(seen)
    return not parts.scheme and not parts.netloc


def local_redirect_target(target: str | None) -> str | None:
    """``target`` if it is a path on this origin (``/cases/…?page=2``), else None.

    Accepted targets are printable ASCII (what our own links produce, since
    ``request.full_path`` is percent-encoded), and must stay a local path in every
    percent-decoded form, as a browser would clean it."""
    if not target or len(target) > MAX_TARGET_CHARS:
        return None
    if not all(" " < ch <= "~" for ch in target):
        return None
    decoded = target
    for _ in range(5):
        if not _is_local_path(decoded):
            return None
        step = unquote(decoded)
        if step == decoded:
            return target
        decoded = step
    return None  # still changing after five rounds: not a link we made
