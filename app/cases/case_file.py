"""The paper file (hồ sơ) of a case: its decrypted content as one document, for the
office's records, marked confidential and stamped with who exported it and when.

A decrypted copy leaves the system's protection, so exporting one is an audited act of
its own (``case.file_exported``), like a download. The document is built in memory and
sent; nothing of it is written to disk. What it holds is what the exporting reviewer
can read on screen, nothing more: the reporter's identity of a named denunciation is
sealed and not part of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from app import audit
from app.cases.access import Actor
from app.models import Case


@dataclass(frozen=True)
class Entry:
    """One item of the file: a heading (who, when) and its text."""

    heading: str
    text: str


@dataclass(frozen=True)
class CaseFile:
    """What the file says, in the words of the page that exports it (labels already in
    the reviewer's language)."""

    reference: str
    exported_by: str
    exported_at: datetime  # a staff action: exact time, like every staff event
    summary: list[tuple[str, str]]
    answers: list[tuple[str, str]]
    attachments: list[str]
    thread: list[Entry]
    notes: list[Entry]
    timeline: list[Entry]
    # What came of the case (issue 14), each already in the reviewer's words: the
    # referral to the investigation agency, the outcome figures, the recovery ledger
    # with its total, and the related cases whose both ends the exporter can read.
    referral: list[tuple[str, str]] = field(default_factory=list)
    outcome: list[tuple[str, str]] = field(default_factory=list)
    ledger: list[Entry] = field(default_factory=list)
    recovered: str = ""
    links: list[str] = field(default_factory=list)


def record_case_file_export(session: Session, actor: Actor, case: Case, pages: int) -> None:
    """Audit the export (caller's transaction): the file is a decrypted copy."""
    audit.record(
        session,
        actor=actor.label,
        action="case.file_exported",
        case_id=case.id,
        details={"format": "pdf", "pages": pages},
    )
