"""Who acted, as the audit log names them: one function per kind of actor.

- a reviewer (or administrator) is ``reviewer:<id>`` (:func:`reviewer_actor`);
- the server's command line is ``cli:<os user>`` (:func:`operator_actor`);
  :data:`CLI_ACTOR`, plain ``cli``, is the default of domain functions that a command
  may call without saying who ran it (tests, older callers).

The reporter is never an actor: their events are held and carry no name (app.audit).

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

CLI_ACTOR = "cli"
_REVIEWER_PREFIX = "reviewer:"
_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]")
_MAX_NAME = 40


def _clean(name: str) -> str:
    # A user name goes into an audit field: no spaces, separators or control characters.
    return _UNSAFE.sub("?", name)[:_MAX_NAME] or "?"


def reviewer_actor(reviewer_id: int) -> str:
    """``reviewer:<id>``: the id, never the name (a name can be changed or reused)."""
    return f"{_REVIEWER_PREFIX}{reviewer_id}"


def operator_actor() -> str:
    """``cli:<os user>``, plus the invoking user when run through sudo."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (a bare container)
        user = f"uid{os.getuid()}"
    label = f"{CLI_ACTOR}:{_clean(user)}"
    sudo_user = os.environ.get("SUDO_USER", "").strip()
    if sudo_user:
        label += f"(sudo:{_clean(sudo_user)})"
    return label


def reviewer_id_of(label: str) -> int | None:
    """The reviewer id of a ``reviewer:<id>`` label, else None."""
    rest = label.removeprefix(_REVIEWER_PREFIX)
    return int(rest) if rest != label and rest.isdigit() else None


def operator_of(label: str) -> str | None:
    """Who ran a command (``cli:<os user>``): the user part, "" for plain ``cli``, None
    for a label that is not the command line's."""
    if label == CLI_ACTOR:
        return ""
    prefix = f"{CLI_ACTOR}:"
    return label.removeprefix(prefix) if label.startswith(prefix) else None
