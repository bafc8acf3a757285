"""File parts in the review app: kept in memory for the desk, never spooled to disk.

Werkzeug writes a file part over 500 KB to a temporary file, in clear. The scans a desk
officer attaches (a citizen's letter, "đơn tố cáo.pdf") are report content, which never
touches disk unencrypted: here every file part of the desk's form is held in memory,
within the intake's limits (files, size of each, total), until
:func:`app.cases.desk.enter_at_desk` encrypts it to the new case's key. Any other
endpoint takes no files: its parts are counted and dropped, never written.

Memory, not streaming encryption as the intake does (app/intake/uploads.py): the review
app is internal and used by signed-in staff, and the limits bound it; the intake's
encrypting sinks belong to the other face, which the review app never imports.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from app.cases.desk import PaperScan
from app.web.request_body import StrictFormRequest
from config import Settings

DESK_ENDPOINT = "review.desk_submit"
_LIMITS = "liemchinh.desk_upload_limits"
# A part of an endpoint that takes no files may be this large before the request fails.
_NO_FILES_CAP = 1024 * 1024


class ScanTooLarge(RequestEntityTooLarge):
    description = "scan_too_large"


@dataclass(frozen=True)
class ScanLimits:
    max_file_bytes: int
    max_total_bytes: int
    max_files: int


@dataclass
class _Counted:
    total: int = 0
    files: int = 0


def _counted() -> _Counted:
    state: _Counted | None = g.get("desk_upload_state")
    if state is None:
        state = g.desk_upload_state = _Counted()
    return state


class _MemoryPart(io.BytesIO):
    def __init__(self, limits: ScanLimits, state: _Counted) -> None:
        super().__init__()
        self._limits = limits
        self._state = state

    def write(self, data: Any) -> int:
        n = len(data)
        if self.tell() + n > self._limits.max_file_bytes:
            raise ScanTooLarge()
        self._state.total += n
        if self._state.total > self._limits.max_total_bytes:
            raise ScanTooLarge()
        return super().write(data)


class _Dropped(io.BytesIO):
    def __init__(self, state: _Counted) -> None:
        super().__init__()
        self._state = state

    def write(self, data: Any) -> int:
        self._state.total += len(data)
        if self._state.total > _NO_FILES_CAP:
            raise ScanTooLarge()
        return len(data)


class ReviewRequest(StrictFormRequest):
    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> Any:
        state = _counted()
        endpoint = self.url_rule.endpoint if self.url_rule else None
        limits: ScanLimits | None = current_app.extensions.get(_LIMITS)
        if endpoint != DESK_ENDPOINT or limits is None:
            return _Dropped(state)
        state.files += 1
        if state.files > limits.max_files:
            raise ScanTooLarge()
        return _MemoryPart(limits, state)


def init_desk_uploads(app: Flask, settings: Settings) -> None:
    app.request_class = ReviewRequest
    app.extensions[_LIMITS] = ScanLimits(
        settings.max_file_bytes, settings.max_report_bytes, settings.max_files
    )


def paper_scans(name: str) -> list[PaperScan]:
    """The desk form's files, skipping the empty part of a file input left blank."""
    scans = []
    for storage in request.files.getlist(name):
        stream = storage.stream
        if not isinstance(stream, _MemoryPart):
            continue
        data = stream.getvalue()
        if not data and not storage.filename:
            continue
        scans.append(PaperScan(storage.filename or "", storage.mimetype or "", data))
    return scans
