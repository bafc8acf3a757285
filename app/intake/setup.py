"""Wiring of the intake app: upload sinks per endpoint, limits, template filters."""

from __future__ import annotations

from flask import Flask

from app.intake.exit import init_quick_exit
from app.intake.followup import reporter_case_recipient
from app.intake.uploads import (
    SinkKind,
    UploadPolicy,
    ciphertext_limit,
    init_uploads,
    padded_ciphertext_limit,
    register_upload_policy,
)
from app.intake.views import server_case_recipient
from app.web.database_files import init_database_files
from app.web.db import get_database
from app.web.ratelimit import init_rate_limits
from app.web.text import linkify
from config import Settings
from crypto import padme_max_padding

# Non-file form fields, multipart framing and the JSON report are small next to files.
_REQUEST_SLACK = 2 * 1024 * 1024


def max_request_bytes(settings: Settings) -> int:
    """The largest request body the intake reads; a reverse proxy in front of it must
    allow at least this much (deploy/nginx: ``client_max_body_size``), or a large
    report gets the proxy's own English error instead of ours."""
    return ciphertext_limit(settings.max_report_bytes + _padding(settings)) + _REQUEST_SLACK


def _padding(settings: Settings) -> int:
    # Attachments sent by the browser are padded to their PADMÉ length: each may be up to
    # padme_max_padding bytes longer than the file.
    return settings.max_files * padme_max_padding(settings.max_file_bytes)


def init_intake(app: Flask, settings: Settings) -> None:
    init_rate_limits(app, settings)
    init_quick_exit(app)
    # After the session is saved, every request: the SQLite files keep no time of it.
    init_database_files(app, get_database(app))
    init_uploads(app, max_request_bytes(settings))
    plain = dict(
        max_file_bytes=settings.max_file_bytes,
        max_total_bytes=settings.max_report_bytes,
        max_files=settings.max_files,
    )
    register_upload_policy(
        app,
        "intake.report_submit",
        UploadPolicy(SinkKind.ENCRYPT, server_case_recipient, **plain),
    )
    register_upload_policy(
        app,
        "intake.followup_message",
        UploadPolicy(SinkKind.ENCRYPT, reporter_case_recipient, **plain),
    )
    # The language switch re-renders the form: its files are read and dropped.
    register_upload_policy(
        app, "intake.report_language", UploadPolicy(SinkKind.DISCARD, None, **plain)
    )
    # The browser sends the report and two key wraps besides the (padded) attachments.
    ciphertext = UploadPolicy(
        SinkKind.CIPHERTEXT,
        None,
        max_file_bytes=padded_ciphertext_limit(settings.max_file_bytes),
        max_total_bytes=ciphertext_limit(settings.max_report_bytes + _padding(settings))
        + 3 * ciphertext_limit(0),
        max_files=settings.max_files + 3,
    )
    register_upload_policy(app, "intake.api_reports", ciphertext)
    register_upload_policy(app, "intake.api_followup_messages", ciphertext)
    app.add_template_filter(linkify, "linkify")
