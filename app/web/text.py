"""Showing text people wrote (messages, notes) safely: escaped, links made clickable.

Reporters and reviewers write plain text. It is escaped first and then only web links
are turned into anchors (bleach), with no referrer and no opener, so a message can
never inject markup, and following a link leaks nothing about the case.
"""

from __future__ import annotations

from typing import Any

import bleach
from markupsafe import Markup, escape

_ALLOWED_PROTOCOLS = ["http", "https"]


def _no_referrer(attrs: dict[Any, str], new: bool = False) -> dict[Any, str]:
    attrs[(None, "rel")] = "noopener noreferrer nofollow"
    attrs[(None, "target")] = "_blank"
    return attrs


def linkify(text: str) -> Markup:
    escaped = str(escape(text))
    linked = bleach.linkify(escaped, callbacks=[_no_referrer], skip_tags=["pre"], parse_email=False)
    cleaned = bleach.clean(
        linked,
        tags={"a"},
        attributes={"a": ["href", "rel", "target"]},
        protocols=_ALLOWED_PROTOCOLS,
        strip=True,
    )
    return Markup(cleaned.replace("\n", "<br>\n"))  # noqa: S704 - bleach-cleaned above
