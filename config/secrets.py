"""Installation secrets: two Flask secret keys, the receipt salt, the backup key, the
TOTP key.

They are generated with :mod:`secrets` by ``init`` and kept in one JSON file with mode
0600 in the instance folder. Never hard-coded, never in the database: a stolen database
without this file cannot test receipt guesses, because the salt feeds every receipt's
Argon2id run.

The backup authentication key (``backup_auth_key``) signs every backup's manifest
(HMAC-SHA256, app.backup) and is the one secret never copied into a backup: a restore
takes it from a copy of this file kept offline (``restore --secrets FILE``), so that an
archive someone else made cannot be restored as ours. Files made before it existed get
it from the next ``init`` (:func:`add_backup_key`).

The TOTP key (``totp_key``) encrypts the reviewers' TOTP seeds at rest
(app.accounts.totp). It is its own key, so that rotating the review app's Flask secret
key (which ends every session) leaves every enrolled authenticator working. Releases
before it derived that key from the review secret key; a file from then gets, from the
next ``init`` (:func:`add_totp_key`), the key that derivation gives, so the seeds
already stored still decrypt, and until then that derivation is used in memory.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MIN_SECRET_BYTES = 32
_FIELDS = ("intake_secret_key", "review_secret_key", "receipt_salt")
BACKUP_KEY_FIELD = "backup_auth_key"
TOTP_KEY_FIELD = "totp_key"
# Fields added after the first release: absent from older files until init adds them.
_LATER_FIELDS = (BACKUP_KEY_FIELD, TOTP_KEY_FIELD)
_LEGACY_TOTP_LABEL = b"liemchinh/totp-secret/v1"


class SecretsError(RuntimeError):
    """The secrets file is unreadable, malformed, or holds a secret that is too short."""


class MissingSecretsError(SecretsError):
    """No secrets file yet: the installation was never initialised."""


@dataclass(frozen=True, repr=False)
class InstallationSecrets:
    intake_secret_key: bytes
    review_secret_key: bytes
    receipt_salt: bytes
    backup_auth_key: bytes | None = None  # None: a file made before backups were signed
    totp_key: bytes | None = None  # None: a file made before TOTP had its own key

    def __repr__(self) -> str:  # never print secrets into a traceback or log
        return "InstallationSecrets(<redacted>)"

    @classmethod
    def generate(cls) -> InstallationSecrets:
        def fresh() -> bytes:
            return secrets.token_bytes(MIN_SECRET_BYTES)

        return cls(fresh(), fresh(), fresh(), backup_auth_key=fresh(), totp_key=fresh())

    def totp_encryption_key(self) -> bytes:
        """The key of the TOTP seeds at rest: the file's own, or for a file from before
        it had one, the key those releases derived from the review secret key."""
        if self.totp_key is not None:
            return self.totp_key
        return legacy_totp_key(self.review_secret_key)


def legacy_totp_key(review_secret_key: bytes) -> bytes:
    """The TOTP key of releases before ``totp_key``: HKDF-SHA256 of the review app's
    secret key (no salt, info ``liemchinh/totp-secret/v1``, 32 bytes). Only to keep the
    seeds they stored readable (:func:`add_totp_key`); never for a new installation."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LEGACY_TOTP_LABEL)
    return hkdf.derive(review_secret_key)


def secrets_text(values: InstallationSecrets) -> str:
    """The file's content: the same bytes for the same secrets (a restore gives back the
    file that was backed up, byte for byte)."""
    body = {name: getattr(values, name).hex() for name in _FIELDS}
    for name in _LATER_FIELDS:
        value = getattr(values, name)
        if value is not None:
            body[name] = value.hex()
    return json.dumps(body, indent=2) + "\n"


def parse_secrets(text: str, origin: str) -> InstallationSecrets:
    """Secrets from the file's text (``origin`` names it in errors)."""
    try:
        raw = json.loads(text)
        values = [bytes.fromhex(raw[name]) for name in _FIELDS]
        later = {name: bytes.fromhex(raw[name]) for name in _LATER_FIELDS if name in raw}
    except (ValueError, KeyError, TypeError) as exc:
        raise SecretsError(f"secrets file {origin} is unreadable or malformed: {exc}") from None
    named = [*zip(_FIELDS, values, strict=True), *later.items()]
    for name, value in named:
        if len(value) < MIN_SECRET_BYTES:
            raise SecretsError(
                f"secret {name!r} in {origin} is {len(value)} bytes; at least "
                f"{MIN_SECRET_BYTES} random bytes are required (delete it and run init "
                "only if no case was ever stored: the receipt salt cannot change)"
            )
    intake, review, salt = values
    return InstallationSecrets(
        intake,
        review,
        salt,
        backup_auth_key=later.get(BACKUP_KEY_FIELD),
        totp_key=later.get(TOTP_KEY_FIELD),
    )


def load_secrets(path: Path) -> InstallationSecrets:
    if not path.exists():
        raise MissingSecretsError(
            f"secrets file {path} does not exist: run `flask --app wsgi:review_app init` first"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise SecretsError(f"secrets file {path} is unreadable or malformed: {exc}") from None
    return parse_secrets(text, str(path))


def ensure_secrets(path: Path) -> tuple[InstallationSecrets, bool]:
    """Load the secrets, creating the file (mode 0600, atomically) if absent.

    Returns the secrets and whether they were created now.
    """
    if path.exists():
        return load_secrets(path), False
    path.parent.mkdir(parents=True, exist_ok=True)
    created = InstallationSecrets.generate()
    tmp = _write_private(path, secrets_text(created))
    # O_EXCL semantics for the final name: a concurrent init keeps the first file.
    try:
        os.link(tmp, path)
    except FileExistsError:
        os.unlink(tmp)
        return load_secrets(path), False
    os.unlink(tmp)
    return created, True


def _write_private(path: Path, text: str) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    return tmp


def add_backup_key(path: Path) -> bool:
    """Give an existing secrets file a backup authentication key if it has none (the
    other secrets are kept as they are). Returns whether one was added."""
    current = load_secrets(path)
    if current.backup_auth_key is not None:
        return False
    updated = replace(current, backup_auth_key=secrets.token_bytes(MIN_SECRET_BYTES))
    os.replace(_write_private(path, secrets_text(updated)), path)
    return True


def add_totp_key(path: Path) -> bool:
    """Give an existing secrets file its own TOTP key if it has none: the key the
    release that made the file derived from the review secret key, so that the seeds
    stored under it keep working, and stay working once that secret key is rotated.
    Returns whether one was added."""
    current = load_secrets(path)
    if current.totp_key is not None:
        return False
    updated = replace(current, totp_key=legacy_totp_key(current.review_secret_key))
    os.replace(_write_private(path, secrets_text(updated)), path)
    return True
