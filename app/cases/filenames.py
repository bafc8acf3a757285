"""What a reported file's name may be: the name the reporter's file had, without path
parts or anything that could break a header or a page.

A name comes from a reporter's browser (inside the encrypted report or message) or from
a multipart header; either may carry line breaks, control characters or a path. The
same rule runs when a file is stored and when it is sent back, so a name written by an
older version or by a hand-made client is cleaned on the way out too.
"""

from __future__ import annotations

import unicodedata

MAX_FILENAME_CHARS = 255
FALLBACK_NAME = "file"


def _is_break_or_control(ch: str) -> bool:
    # Cc: C0/C1 controls (CR, LF, TAB, NUL...); Zl/Zp: Unicode line and paragraph
    # separators; Cf: invisible format characters (e.g. right-to-left overrides that
    # make "gpj.exe" look like "exe.jpg").
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp", "Cf")


def clean_filename(name: str) -> str:
    """The base name, with control characters and line breaks turned into single spaces,
    trimmed, at most 255 characters; ``file`` when nothing is left."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    spaced = "".join(" " if _is_break_or_control(ch) else ch for ch in base)
    cleaned = " ".join(spaced.split())
    return cleaned[:MAX_FILENAME_CHARS].strip() or FALLBACK_NAME
