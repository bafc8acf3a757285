"""Installation secrets: two Flask secret keys and the receipt salt.

They are generated with :mod:`secrets` by ``init`` and kept in one JSON file with mode
0600 in the instance folder. Never hard-coded, never in the database: a stolen database
without this file cannot test receipt guesses, because the salt feeds every receipt's
Argon2id run.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

MIN_SECRET_BYTES = 32
_FIELDS = ("intake_secret_key", "review_secret_key", "receipt_salt")


class SecretsError(RuntimeError):
    """The secrets file is unreadable, malformed, or holds a secret that is too short."""


class MissingSecretsError(SecretsError):
    """No secrets file yet: the installation was never initialised."""


@dataclass(frozen=True, repr=False)
class InstallationSecrets:
    intake_secret_key: bytes
    review_secret_key: bytes
    receipt_salt: bytes

    def __repr__(self) -> str:  # never print secrets into a traceback or log
        return "InstallationSecrets(<redacted>)"

    @classmethod
    def generate(cls) -> InstallationSecrets:
        return cls(*(secrets.token_bytes(MIN_SECRET_BYTES) for _ in _FIELDS))


def load_secrets(path: Path) -> InstallationSecrets:
    if not path.exists():
        raise MissingSecretsError(
            f"secrets file {path} does not exist: run `flask --app wsgi:review_app init` first"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        values = [bytes.fromhex(raw[name]) for name in _FIELDS]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SecretsError(f"secrets file {path} is unreadable or malformed: {exc}") from None
    for name, value in zip(_FIELDS, values, strict=True):
        if len(value) < MIN_SECRET_BYTES:
            raise SecretsError(
                f"secret {name!r} in {path} is {len(value)} bytes; at least "
                f"{MIN_SECRET_BYTES} random bytes are required (delete it and run init "
                "only if no case was ever stored: the receipt salt cannot change)"
            )
    return InstallationSecrets(*values)


def ensure_secrets(path: Path) -> tuple[InstallationSecrets, bool]:
    """Load the secrets, creating the file (mode 0600, atomically) if absent.

    Returns the secrets and whether they were created now.
    """
    if path.exists():
        return load_secrets(path), False
    path.parent.mkdir(parents=True, exist_ok=True)
    created = InstallationSecrets.generate()
    body = json.dumps({name: getattr(created, name).hex() for name in _FIELDS}, indent=2)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(body + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    # O_EXCL semantics for the final name: a concurrent init keeps the first file.
    try:
        os.link(tmp, path)
    except FileExistsError:
        os.unlink(tmp)
        return load_secrets(path), False
    os.unlink(tmp)
    return created, True
