"""Exception classes of the crypto package.

Every failure has its own class so that callers can tell a damaged file
(``HeaderError``, ``PayloadError``) from a file that is fine but not for them
(``NoIdentityMatchError``), and never have to parse message strings.
"""

from __future__ import annotations


class AgeError(Exception):
    """Base class for every failure to read or write an age file."""


class KeyFormatError(AgeError, ValueError):
    """A recipient ("age1...") or identity ("AGE-SECRET-KEY-1...") string is malformed."""


class HeaderError(AgeError):
    """The age header is malformed, uses an unsupported version, or a stanza is invalid."""


class HeaderMacError(HeaderError):
    """The header MAC does not match: the header was altered or the file key is wrong."""


class NoIdentityMatchError(AgeError):
    """None of the supplied identities can unwrap any recipient stanza of the file."""


class PayloadError(AgeError):
    """The encrypted payload is truncated, altered, or has trailing data.

    When raised part-way through a stream, every chunk released before it was
    authentic, but the file as a whole must be treated as incomplete.
    """


class FileTooLargeError(AgeError):
    """The age file is larger than the limit the caller set."""


class ArmorError(AgeError):
    """The ASCII armor (``-----BEGIN AGE ENCRYPTED FILE-----``) is malformed."""
