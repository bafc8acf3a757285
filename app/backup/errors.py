"""What a backup or a restore raises; each message is meant for the operator's terminal."""

from __future__ import annotations


class BackupError(RuntimeError):
    """A backup cannot be made (missing tool, unreadable store, target exists)."""


class RestoreError(RuntimeError):
    """A restore was refused or failed."""


class NotEmptyError(RestoreError):
    """The target instance already holds an installation; restore never merges."""


class CorruptArchiveError(RestoreError):
    """The archive is not one of ours, or a member does not match the manifest."""


class UnauthenticatedArchiveError(CorruptArchiveError):
    """The manifest's signature is missing or was not made with our backup key."""
