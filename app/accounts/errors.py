"""Specific exceptions of the accounts domain.

Each carries a short machine ``code`` so that a view can pick a translated message
without parsing English text.
"""

from __future__ import annotations

from app.installation import UnknownUnitError


class AccountError(ValueError):
    """A request about a staff account that the domain refuses. Nothing was changed."""

    code = "account"

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message or self.__class__.__name__)
        if code is not None:
            self.code = code


class WeakPasswordError(AccountError):
    """Codes: ``too_short``, ``too_long``, ``common``, ``same_as_username``."""

    code = "weak_password"


class InvalidUsernameError(AccountError):
    code = "invalid_username"


class UsernameTakenError(AccountError):
    code = "username_taken"


class InvalidRoleError(AccountError):
    code = "invalid_role"


class LastAdminError(AccountError):
    """Deactivating or demoting the only active admin would leave nobody to administer."""

    code = "last_admin"


class LoginFailedError(AccountError):
    """Wrong username, password or code, or a locked account: deliberately one error.

    ``reason`` is for the audit log and tests only, never for the person logging in.
    """

    code = "login_failed"

    def __init__(self, reason: str) -> None:
        super().__init__(f"login failed ({reason})")
        self.reason = reason


class CurrentPasswordError(AccountError):
    """The current password given to a password change is wrong."""

    code = "current_password"


class InvalidTotpError(AccountError):
    """A TOTP code that is malformed, wrong, outside the window or already used."""

    code = "invalid_totp"


class TotpDecryptionError(AccountError):
    """A stored TOTP secret does not decrypt (altered row or changed review secret key)."""

    code = "totp_decryption"


class AdminExistsError(AccountError):
    """A setup link is only for the first admin."""

    code = "admin_exists"


class InvalidInvitationError(AccountError):
    """The link is unknown, already used or expired (which one is not told)."""

    code = "invalid_invitation"


# What a view or command catches to refuse an account request with a message: the unit
# named does not exist is the installation's error (app.installation), shared with the
# case workflow, so it is not an AccountError.
ACCOUNT_REFUSALS: tuple[type[AccountError], type[UnknownUnitError]] = (
    AccountError,
    UnknownUnitError,
)
