"""JSON for a single-quoted HTML attribute, in UTF-8.

Jinja's ``tojson`` escapes every non-ASCII character (``\\u1ea1``): Vietnamese text
triples in size, and the intake's HTML is sent uncompressed (BREACH, issue 15's page
weight). Here only the characters that could end the attribute or open markup are
escaped, as JSON escapes (``& < > '``), which the browser's JSON.parse reads back."""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup

_ESCAPES = {"&": "\\u0026", "<": "\\u003c", ">": "\\u003e", "'": "\\u0027"}


def json_attribute(value: Any) -> Markup:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    for char, escape in _ESCAPES.items():
        text = text.replace(char, escape)
    return Markup(text)  # noqa: S704 - every character that could end the attribute is escaped
