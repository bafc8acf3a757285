"""Staff accounts: passwords, TOTP, reviewer key pairs, invitations, lockout.

The domain of the review app's accounts, used by its views and by the CLI. Every
function takes an explicit SQLAlchemy session and never commits: the caller commits,
so that an action and its audit event are stored together or not at all. Nothing here
imports Flask: the command-line face is :mod:`app.cli.accounts`.
"""
