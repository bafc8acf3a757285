"""Reviewer-facing case references, ``CT-2026-00042``: unique per year, gap-free.

Never shown to the reporter (a reporter who knew their number would learn how many
reports came before theirs, and a reference in a leaked screenshot would point back
to a date).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.models import Case, CaseReferenceCounter

PREFIX = "CT"


@dataclass(frozen=True)
class CaseReference:
    year: int
    number: int

    def __str__(self) -> str:
        return f"{PREFIX}-{self.year}-{self.number:05d}"


def allocate_reference(session: Session, year: int) -> CaseReference:
    """Take the next number for ``year`` in the caller's transaction.

    One atomic upsert: concurrent transactions queue on the counter row (PostgreSQL row
    lock, SQLite's single writer) until the first commits, so no two cases share a
    number; a rolled-back submission gives its number back.
    """
    dialect = session.get_bind().dialect.name
    insert_fn = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt: Insert = insert_fn(CaseReferenceCounter).values(year=year, last_number=1)
    stmt = stmt.on_conflict_do_update(  # type: ignore[attr-defined]
        index_elements=[CaseReferenceCounter.year],
        set_={"last_number": CaseReferenceCounter.last_number + 1},
    ).returning(CaseReferenceCounter.last_number)
    number = session.execute(stmt).scalar_one()
    return CaseReference(year, int(number))


class UnknownCaseError(LookupError):
    """No case with this id or reference."""


def find_case(session: Session, reference_or_id: str) -> Case:
    """The case an operator names, by its reference (``CT-2026-00042``) or its id."""
    case = session.scalar(select(Case).where(Case.reference == reference_or_id))
    case = case or session.get(Case, reference_or_id)
    if case is None:
        raise UnknownCaseError(f"no case {reference_or_id!r}")
    return case


def references_of(session: Session, case_ids: Collection[str]) -> dict[str, str]:
    """Case id → reference for the given ids that still exist (purged ones are left out)."""
    if not case_ids:
        return {}
    rows = session.execute(select(Case.id, Case.reference).where(Case.id.in_(case_ids)))
    return {case_id: reference for case_id, reference in rows}
