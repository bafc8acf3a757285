"""The inbox's decrypted parts: each row's summary, and text search over the reports.

The database holds no plaintext, so both decrypt in the reviewer's request with the key
their session holds (app.cases.summaries), and both are capped:

- :data:`SUMMARY_CAP` rows of a page get a summary. Each costs a key unwrap, a file
  read and a decryption (about 4 ms on the 2-core test machine: 0.2 s for a page of
  50); the cap bounds a page's time and how much plaintext one response carries,
  whatever the page size becomes.
- :data:`SEARCH_CAP` cases are searched: the first of the filtered inbox in its sort
  order. Each costs the same as a summary, and a search reads every report in its
  range, so the cap bounds the request (1.3 s at the cap on that machine) and the
  plaintext held in memory at once. The page says when cases were left out and asks
  the reviewer to narrow the filters.

Opening the inbox is recorded once per session (app.review.inbox), not per row: what a
reviewer read in full stays recorded per case when they open it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from app.cases.access import Actor
from app.cases.inbox import InboxFilters, InboxPage, inbox_page, matching_ids, reference_of
from app.cases.summaries import matches, read_reports, shorten
from app.storage import BlobStore

SUMMARY_CAP = 50
SEARCH_CAP = 300
MAX_QUERY_CHARS = 200


@dataclass(frozen=True)
class SearchReport:
    """What the search covered, for the page to say."""

    query: str
    searched: int  # cases decrypted and searched
    not_searched: int  # cases matching the filters beyond the cap
    unreadable: int  # within the cap, but not decryptable with the reviewer's key


@dataclass(frozen=True)
class InboxView:
    page: InboxPage
    summaries: dict[str, str]  # case id -> shortened summary
    summarised: int  # rows that were offered a summary (at most SUMMARY_CAP)
    search: SearchReport | None


def clean_query(text: str) -> str:
    return " ".join(text.split())[:MAX_QUERY_CHARS]


def page_summaries(
    session: Session, store: BlobStore, actor: Actor, case_ids: Sequence[str]
) -> dict[str, str]:
    texts = read_reports(session, store, actor, list(case_ids[:SUMMARY_CAP]))
    return {case_id: shorten(text.summary or text.details) for case_id, text in texts.items()}


def read_inbox(
    session: Session,
    store: BlobStore,
    actor: Actor,
    filters: InboxFilters,
    today: date,
    *,
    query: str = "",
    language: str = "vi",
) -> InboxView:
    """The inbox page for ``filters``, with summaries; with ``query``, only the cases
    whose summary or details contain every word of it (or, for a reference such as
    ``CT-2026-00042``, that case)."""
    query = clean_query(query)
    report: SearchReport | None = None
    if not query:
        page = inbox_page(session, actor, filters, today, language=language)
    elif (reference := reference_of(query)) is not None:
        page = inbox_page(session, actor, filters, today, reference=reference, language=language)
        report = SearchReport(query, searched=0, not_searched=0, unreadable=0)
    else:
        ids, total = matching_ids(session, actor, filters, today, SEARCH_CAP)
        texts = read_reports(session, store, actor, ids)
        found = [case_id for case_id in ids if case_id in texts and matches(texts[case_id], query)]
        page = inbox_page(session, actor, filters, today, only_ids=found, language=language)
        report = SearchReport(
            query,
            searched=len(texts),
            not_searched=max(0, total - len(ids)),
            unreadable=len(ids) - len(texts),
        )
    ids_on_page = [row.id for row in page.rows]
    return InboxView(
        page=page,
        summaries=page_summaries(session, store, actor, ids_on_page),
        summarised=min(len(ids_on_page), SUMMARY_CAP),
        search=report,
    )
