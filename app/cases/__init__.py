"""The domain: everything that happens to a case, used by both faces and the CLI.

Functions here take an explicit SQLAlchemy ``Session``, check who may act, and write the
audit event in the same transaction.

The commit rule. Domain functions (here, in ``app.accounts`` and in
``app.notifications.outbox``) add, change and flush; they never commit. The owner of the
unit of work - a view for its request, a CLI command, a test - commits it exactly once,
through :func:`app.cases.unit_of_work.commit`, which also makes the blob files the
domain staged final (and a rollback removes them). So an action, its audit event and
its files land together or not at all, and several domain calls compose into one
transaction (a status change and its message, an acknowledgment and its reply).

A domain function that fails rolls back or leaves the rollback to its owner; either way
nothing of the unit is kept. The one module that commits on its own is the mailer
(``app.notifications.mailer``): a sent e-mail cannot be taken back. The owner may also
commit early on purpose, as the intake does after spending a proof-of-work challenge
(``app.intake.flood.spend_pow``), always through the same helper.
``tests/architecture/test_commit_rule.py`` checks that nothing else calls ``commit()``.
"""
