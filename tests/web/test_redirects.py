"""``next=`` targets: only a path on this origin, as a browser reads it.

The oracle is ada (``ada-url``), a WHATWG URL parser (the one in Node.js): whatever
the check accepts must resolve, against the review app's own URL, to the same origin -
also after any number of further percent-decodings, and as the Location header Werkzeug
actually sends.
"""

from __future__ import annotations

from urllib.parse import unquote

import ada_url
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from werkzeug.utils import redirect

from app.web.redirects import local_redirect_target

BASE = "https://review.example/cases/"
ORIGIN = "https://review.example"
PIECES = [
    "/",
    "//",
    "\\",
    "\t",
    "\n",
    "\r",
    " ",
    "\x00",
    "\x0b",
    "\x7f",
    "\u3000",
    "\uff0f",
    "%09",
    "%0a",
    "%0D",
    "%2f",
    "%2F",
    "%5c",
    "%5C",
    "%25",
    "%252f",
    "%20",
    "%00",
    "evil.com",
    "@",
    ":",
    "http:",
    "https:",
    "javascript:",
    "//evil.com",
    ".",
    "..",
    "?",
    "#",
    "=",
    "&",
    "cases",
    "inbox",
    "x",
    "é",
    "ư",
]


def _origin(url: str) -> str | None:
    try:
        return str(ada_url.URL(url, base=BASE).origin)
    except ValueError:
        return None


def _stays_here(target: str) -> bool:
    seen = target
    for _ in range(6):
        if _origin(seen) != ORIGIN:
            return False
        if unquote(seen) == seen:
            return True
        seen = unquote(seen)
    return True


@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=8).map("".join))
@settings(max_examples=600, deadline=None)
@example("/\t/evil.com")
@example("/%09/evil.com")
@example("/%5C%5Cevil.com")
@example("/%2F%2Fevil.com")
@example("/%252F%252Fevil.com")
@example("\\/evil.com")
@example("/\\evil.com")
@example(" //evil.com")
def test_accepted_targets_stay_on_this_origin(target: str) -> None:
    accepted = local_redirect_target(target)
    if accepted is None:
        return
    assert accepted == target
    assert _stays_here(accepted), accepted
    location = redirect(accepted).headers["Location"]
    assert _stays_here(location), location


@given(st.text(max_size=60))
@settings(max_examples=600, deadline=None)
def test_any_text_is_refused_or_stays_here(target: str) -> None:
    accepted = local_redirect_target(target)
    assert accepted is None or _stays_here(accepted)


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.com",
        "/%09/evil.com",
        "/\n/evil.com",
        "/%0d%0a/evil.com",
        "//evil.com",
        "///evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        "/%5cevil.com",
        "https://evil.com/",
        "javascript:alert(1)",
        "evil.com",
        " /inbox",
        "",
        None,
    ],
)
def test_known_escapes_are_refused(target: str | None) -> None:
    assert local_redirect_target(target) is None


@pytest.mark.parametrize(
    "target",
    ["/", "/inbox", "/inbox?status=new&page=2", "/cases/3fa2c1?tab=messages", "/admin/audit"],
)
def test_our_own_paths_are_kept(target: str) -> None:
    assert local_redirect_target(target) == target
    assert _stays_here(target)
