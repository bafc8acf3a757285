"""Who ran an operator command, as the audit log names them.

The command line stays a single-person tool (the operator who can run it can also read
the database and the secrets file), but its events must still say who acted:
``cli:<os user>``, and ``cli:<os user>(sudo:<user>)`` when run through sudo, instead of
a constant that names nobody. It is a record, not a proof: ``getpass.getuser`` reads
``LOGNAME``/``USER`` first, which the operator controls (docs/threat-model.md).
"""

from __future__ import annotations

import getpass
import os
import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]")
_MAX_NAME = 40


def _clean(name: str) -> str:
    # A user name goes into an audit field: no spaces, separators or control characters.
    return _UNSAFE.sub("?", name)[:_MAX_NAME] or "?"


def operator_actor() -> str:
    """``cli:<os user>``, plus the invoking user when run through sudo."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (a bare container)
        user = f"uid{os.getuid()}"
    label = f"cli:{_clean(user)}"
    sudo_user = os.environ.get("SUDO_USER", "").strip()
    if sudo_user:
        label += f"(sudo:{_clean(sudo_user)})"
    return label
