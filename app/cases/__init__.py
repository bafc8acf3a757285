"""The domain: everything that happens to a case, used by both faces and the CLI.

Functions here take an explicit SQLAlchemy ``Session``, check who may act, write the
audit event in the same transaction, and never commit: the caller (a view, a CLI
command) commits once, so an action and its audit event land together or not at all.
"""
