"""What a case is about, for the inbox: its report decrypted in memory, per request.

The inbox shows each case's summary so that a reviewer need not open (and decrypt, and
log) every case to know what it is. Nothing here is stored: the report is decrypted
with the key the reviewer's session holds, exactly as the case page does
(app.cases.reading), and dropped with the response. A case whose wraps do not hold the
reviewer's key (a grant still pending) or whose report cannot be read shows no summary,
never an error for the whole page.

Which cases is the caller's business: it passes only cases that
:func:`app.cases.access.readable_by` lets the actor read, and this module checks that
again in SQL, so a list of ids from elsewhere cannot widen it. The wraps are the second
check: without the actor's key in them nothing decrypts.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cases.access import Actor, readable_by
from app.cases.blobs import read_payload
from app.cases.keys import try_unwrap
from app.cases.payloads import decode_report
from app.models import Blob, Case, CaseKey
from app.models.vocabulary import BlobKind, KeyKind
from app.storage import BlobStore, StorageError

# The longest summary shown in an inbox row (the questionnaire allows 200 characters;
# a browser-encrypted report is not checked by the server, so it is cut here too).
SUMMARY_CHARS = 160


@dataclass(frozen=True)
class ReportText:
    """The two free-text answers the inbox uses: ``summary`` is shown (cut to
    :data:`SUMMARY_CHARS`), ``details`` is only searched, never rendered in the list."""

    summary: str
    details: str


def shorten(text: str, limit: int = SUMMARY_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _answer(answers: dict[str, str | list[str]], key: str) -> str:
    value = answers.get(key, "")
    return value if isinstance(value, str) else " ".join(value)


def read_reports(
    session: Session, store: BlobStore, actor: Actor, case_ids: Sequence[str]
) -> dict[str, ReportText]:
    """Summary and details of each of ``case_ids`` the actor can decrypt; a case they
    cannot (no key in its wraps, unreadable report, file missing) is left out.

    Two queries whatever the number of cases (the case-key wraps, the report blobs),
    then per case one unwrap and one small file read, in memory."""
    if actor.identity is None or not case_ids:
        return {}
    readable = select(Case.id).where(Case.id.in_(case_ids), readable_by(actor))
    wraps = dict(
        session.execute(
            select(CaseKey.case_id, CaseKey.wrap).where(
                CaseKey.case_id.in_(readable), CaseKey.kind == KeyKind.CASE.value
            )
        ).all()
    )
    blobs = {
        blob.case_id: blob
        for blob in session.scalars(
            select(Blob).where(
                Blob.case_id.in_(list(wraps)),
                Blob.kind == BlobKind.REPORT.value,
                Blob.message_id.is_(None),
            )
        )
    }
    texts: dict[str, ReportText] = {}
    for case_id in case_ids:
        wrap, blob = wraps.get(case_id), blobs.get(case_id)
        if wrap is None or blob is None:
            continue
        case_key = try_unwrap(wrap, [actor.identity])
        if case_key is None:
            continue  # a pending grant: the case page says so when opened
        try:
            report = read_payload(store, blob, case_key, decode_report)
        except StorageError:
            report = None  # one missing file must not take the whole inbox down
        if report is None:
            continue
        texts[case_id] = ReportText(
            summary=_answer(report.answers, "summary"),
            details=_answer(report.answers, "details"),
        )
    return texts


def fold(text: str) -> str:
    """Text for matching: lower case, without diacritics, đ as d - so "bien ban" finds
    "Biên bản" and "dat dai" finds "đất đai", as a Vietnamese reader types on a phone
    keyboard without accents."""
    decomposed = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def matches(text: ReportText, query: str) -> bool:
    """Every word of ``query`` occurs in the summary or the details (folded)."""
    haystack = fold(f"{text.summary}\n{text.details}")
    return all(word in haystack for word in fold(query).split())
