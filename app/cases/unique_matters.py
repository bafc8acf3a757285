"""Unique matters: cases with every group of duplicates (đơn trùng) counted once.

Staff link duplicates in app.cases.links; a group is a connected component of the
duplicate links (A–B and B–C make one matter of A, B and C). Counted from ids and the
link kind only, both in clear: this module decrypts nothing and imports nothing that
holds keys, so the oversight statistics can use it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from app.models import Case, CaseLink
from app.models.vocabulary import CaseLinkKind


def count_unique(case_ids: Iterable[str], duplicate_pairs: Iterable[tuple[str, str]]) -> int:
    """The number of connected components of ``case_ids`` under ``duplicate_pairs``
    (pairs with an end outside ``case_ids`` are ignored): each group of duplicates,
    however chained (A–B, B–C), counts once. Union-find over ids; nothing decrypted."""
    parent = {case_id: case_id for case_id in case_ids}

    def root(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    groups = len(parent)
    for a, b in duplicate_pairs:
        if a in parent and b in parent:
            ra, rb = root(a), root(b)
            if ra != rb:
                parent[ra] = rb
                groups -= 1
    return groups


def unique_matters(session: Session, within: ColumnElement[bool] | None = None) -> int:
    """Unique matters among the cases matching ``within`` (all cases when None): the
    number of cases, with every group of cases linked as duplicates counted once. Only
    duplicate links between two cases of the set join them."""
    condition = within if within is not None else Case.id.is_not(None)
    ids = select(Case.id).where(condition)
    total = session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    pairs = session.execute(
        select(CaseLink.case_id, CaseLink.other_case_id).where(
            CaseLink.kind == CaseLinkKind.DUPLICATE.value,
            CaseLink.case_id.in_(ids),
            CaseLink.other_case_id.in_(ids),
        )
    ).all()
    if not pairs:
        return int(total)
    # Only the cases that appear in a duplicate link need to be in memory: every other
    # case is a group of its own.
    linked = {case_id for pair in pairs for case_id in pair}
    groups = count_unique(linked, ((a, b) for a, b in pairs))
    return int(total) - len(linked) + groups
