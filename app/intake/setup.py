"""Wiring of the intake app: upload sinks per endpoint, limits, template filters."""

from __future__ import annotations

from flask import Flask

from app.intake.followup import reporter_case_recipient
from app.intake.uploads import (
    SinkKind,
    UploadPolicy,
    ciphertext_limit,
    init_uploads,
    register_upload_policy,
)
from app.intake.views import server_case_recipient
from app.web.ratelimit import init_rate_limits
from app.web.text import linkify
from config import Settings

# Non-file form fields, multipart framing and the JSON report are small next to files.
_REQUEST_SLACK = 2 * 1024 * 1024


def init_intake(app: Flask, settings: Settings) -> None:
    init_rate_limits(app, settings)
    init_uploads(app, ciphertext_limit(settings.max_report_bytes) + _REQUEST_SLACK)
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
    # The browser sends the report and two key wraps besides the attachments.
    ciphertext = UploadPolicy(
        SinkKind.CIPHERTEXT,
        None,
        max_file_bytes=ciphertext_limit(settings.max_file_bytes),
        max_total_bytes=ciphertext_limit(settings.max_report_bytes) + 3 * ciphertext_limit(0),
        max_files=settings.max_files + 3,
    )
    register_upload_policy(app, "intake.api_reports", ciphertext)
    register_upload_policy(app, "intake.api_followup_messages", ciphertext)
    app.add_template_filter(linkify, "linkify")
