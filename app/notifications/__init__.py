"""E-mail notifications to reviewers: an outbox written with the event, sent by cron.

- :mod:`app.notifications.outbox`: who is told and when (no commit; the caller's
  transaction), pruning, the admins' view of failures.
- :mod:`app.notifications.mailer`: sending over SMTP, retries, error records.
- :mod:`app.notifications.addresses`: reviewers' addresses, set by an admin.
- the command-line face is :mod:`app.cli.notify`: ``flask --app wsgi:review_app notify …``.

Off unless ``LIEMCHINH_SMTP_HOST`` is set (config.settings.SmtpSettings). No e-mail
ever carries anything of a case but a link.
"""
