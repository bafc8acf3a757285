"""Formal notices as documents (issue 13 §4): the office's DOCX and the reporter's PDF
of one notice, rendered from templates kept as data in ``config/notices/``.

Pure: plain values in (``Notice``), bytes out; no database, no Flask. The case workflow
calls it and stores the bytes like any other file of the case (encrypted to the case
key). Which notices are statutory forms and which are the city's own: docs/legal.md §5
and the comment at the top of each template.
"""

from __future__ import annotations

from app.cases.notices.as_docx import render_docx
from app.cases.notices.as_pdf import render_pdf
from app.cases.notices.errors import ErrorCode, NoticeError
from app.cases.notices.model import Notice, NoticeKind
from app.cases.notices.templates import NoticeTemplates, load_templates

__all__ = [
    "ErrorCode",
    "Notice",
    "NoticeError",
    "NoticeKind",
    "NoticeTemplates",
    "load_templates",
    "render_docx",
    "render_pdf",
]
