"""X25519 identities (private keys) and recipients (public keys), age style.

Also the X25519 recipient stanza of age v1:

    -> X25519 BASE64(ephemeral share)
    BASE64(ChaCha20-Poly1305(wrap key, zero nonce, file key))

with wrap key = HKDF-SHA256(ikm = shared secret, salt = share || recipient,
info = "age-encryption.org/v1/X25519").
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from . import b64, bech32
from .errors import HeaderError, KeyFormatError
from .header import Stanza

RECIPIENT_HRP = "age"
IDENTITY_HRP = "age-secret-key-"
X25519_STANZA_TYPE = "X25519"
X25519_LABEL = b"age-encryption.org/v1/X25519"
FILE_KEY_SIZE = 16
_ZERO_NONCE = bytes(12)
_RAW = serialization.Encoding.Raw


def _hkdf(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


class Recipient:
    """An X25519 public key, written ``age1...``. Equal when the key bytes are equal."""

    __slots__ = ("_bytes", "_key", "_text")

    def __init__(self, public_key: X25519PublicKey) -> None:
        self._key = public_key
        self._bytes = public_key.public_bytes(_RAW, serialization.PublicFormat.Raw)
        self._text: str | None = None

    @classmethod
    def parse(cls, text: str) -> Recipient:
        try:
            hrp, data = bech32.decode(text.strip())
        except bech32.Bech32Error as exc:
            raise KeyFormatError(f"malformed age recipient: {exc}") from None
        if hrp != RECIPIENT_HRP or len(data) != 32:
            raise KeyFormatError("malformed age recipient: not an age1... X25519 recipient")
        recipient = cls.from_bytes(data)
        # A valid Bech32 string is its own canonical encoding, up to case.
        recipient._text = text.strip().lower()
        return recipient

    @classmethod
    def from_bytes(cls, data: bytes) -> Recipient:
        if len(data) != 32:
            raise KeyFormatError("an X25519 public key is 32 bytes")
        return cls(X25519PublicKey.from_public_bytes(data))

    @property
    def public_bytes(self) -> bytes:
        return self._bytes

    def wrap(self, file_key: bytes) -> Stanza:
        """Make the stanza that lets this recipient's identity recover ``file_key``."""
        ephemeral = X25519PrivateKey.generate()
        share = ephemeral.public_key().public_bytes(_RAW, serialization.PublicFormat.Raw)
        shared = ephemeral.exchange(self._key)
        wrap_key = _hkdf(shared, share + self._bytes, X25519_LABEL)
        body = ChaCha20Poly1305(wrap_key).encrypt(_ZERO_NONCE, file_key, None)
        return Stanza(type=X25519_STANZA_TYPE, args=(b64.encode(share).decode(),), body=body)

    def __str__(self) -> str:
        # Cached: the intake writes a case's recipients several times (key rows, wraps)
        # and Bech32 in pure Python costs ≈30 µs a time.
        if self._text is None:
            self._text = bech32.encode(RECIPIENT_HRP, self._bytes)
        return self._text

    def __repr__(self) -> str:
        return f"Recipient({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Recipient) and other._bytes == self._bytes

    def __hash__(self) -> int:
        return hash(self._bytes)


class Identity:
    """An X25519 private key, written ``AGE-SECRET-KEY-1...``.

    ``str()`` returns the secret key string (it is what identity files hold);
    ``repr()`` deliberately shows only the public half so that a stray log line
    or traceback never leaks it.
    """

    __slots__ = ("_bytes", "_key", "_recipient")

    def __init__(self, private_key: X25519PrivateKey) -> None:
        self._key = private_key
        self._bytes = private_key.private_bytes(
            _RAW, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        self._recipient = Recipient(private_key.public_key())

    @classmethod
    def generate(cls) -> Identity:
        return cls(X25519PrivateKey.generate())

    @classmethod
    def from_bytes(cls, data: bytes) -> Identity:
        if len(data) != 32:
            raise KeyFormatError("an X25519 private key is 32 bytes")
        return cls(X25519PrivateKey.from_private_bytes(bytes(data)))

    @classmethod
    def parse(cls, text: str) -> Identity:
        try:
            hrp, data = bech32.decode(text.strip())
        except bech32.Bech32Error as exc:
            raise KeyFormatError(f"malformed age identity: {exc}") from None
        if hrp != IDENTITY_HRP or len(data) != 32:
            raise KeyFormatError("malformed age identity: not an AGE-SECRET-KEY-1... X25519 key")
        return cls.from_bytes(data)

    @property
    def recipient(self) -> Recipient:
        return self._recipient

    @property
    def private_bytes(self) -> bytes:
        return self._bytes

    def unwrap(self, stanza: Stanza) -> bytes | None:
        """Return the file key if ``stanza`` is an X25519 stanza addressed to us, else None.

        Raises HeaderError for a malformed X25519 stanza or a low-order share:
        those are broken files, not "not for us".
        """
        if stanza.type != X25519_STANZA_TYPE:
            return None
        share = check_x25519_stanza(stanza)
        try:
            shared = self._key.exchange(X25519PublicKey.from_public_bytes(share))
        except ValueError:
            # OpenSSL refuses an all-zero shared secret (low-order share): with
            # it, anyone could compute the wrap key, so the file is invalid.
            raise HeaderError("X25519 stanza share is a low-order point") from None
        if not any(shared):  # pragma: no cover - OpenSSL already rejects it
            raise HeaderError("X25519 stanza share is a low-order point")
        wrap_key = _hkdf(shared, share + self._recipient.public_bytes, X25519_LABEL)
        try:
            return ChaCha20Poly1305(wrap_key).decrypt(_ZERO_NONCE, stanza.body, None)
        except InvalidTag:
            return None

    def __str__(self) -> str:
        return bech32.encode(IDENTITY_HRP, self._bytes).upper()

    def __repr__(self) -> str:
        return f"Identity(recipient={str(self._recipient)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Identity) and hmac.compare_digest(other._bytes, self._bytes)

    def __hash__(self) -> int:
        return hash(self._recipient)


def check_x25519_stanza(stanza: Stanza) -> bytes:
    """Validate an X25519 stanza's shape; return the 32-byte ephemeral share."""
    if len(stanza.args) != 1:
        raise HeaderError("X25519 stanza must have exactly one argument")
    try:
        share = b64.decode(stanza.args[0].encode("ascii"))
    except b64.Base64Error as exc:
        raise HeaderError(f"X25519 stanza share is not canonical base64: {exc}") from None
    if len(share) != 32:
        raise HeaderError("X25519 stanza share is not 32 bytes")
    if len(stanza.body) != FILE_KEY_SIZE + 16:
        raise HeaderError("X25519 stanza body is not 32 bytes")
    return share


def _key_lines(text: str) -> list[tuple[int, str]]:
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            lines.append((number, line))
    return lines


def parse_identity_file(text: str) -> list[Identity]:
    """Parse age's identity file format: one key a line, ``#`` comments, blank lines."""
    identities = []
    for number, line in _key_lines(text):
        try:
            identities.append(Identity.parse(line))
        except KeyFormatError:
            # Do not echo the line: it may be a (slightly mangled) secret key.
            raise KeyFormatError(f"line {number} of the identity file is not an identity") from None
    if not identities:
        raise KeyFormatError("the identity file contains no identity")
    return identities


def parse_recipients_file(text: str) -> list[Recipient]:
    """Parse a recipients file: one ``age1...`` a line, ``#`` comments, blank lines."""
    recipients = []
    for number, line in _key_lines(text):
        try:
            recipients.append(Recipient.parse(line))
        except KeyFormatError as exc:
            raise KeyFormatError(f"line {number} of the recipients file: {exc}") from None
    if not recipients:
        raise KeyFormatError("the recipients file contains no recipient")
    return recipients


def unique_recipients(recipients: Sequence[Recipient]) -> list[Recipient]:
    """Drop duplicates, keeping order (a duplicate stanza only wastes space)."""
    return list(dict.fromkeys(recipients))
