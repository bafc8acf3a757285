"""A case the reporter kept away from every inspection and investigation unit cannot be
routed, and the reviewer is told why instead of finding the form gone."""

from __future__ import annotations

import pytest

from app.cases.workflow import RoutingBlock, routing_options
from app.database import Database
from app.models import Case
from config import Settings
from tests.factories import submit_case

pytestmark = pytest.mark.both_backends


def options(database: Database, case_id: str) -> tuple[list[str], list[str], RoutingBlock | None]:
    with database.read_session() as db:
        case = db.get(Case, case_id)
        assert case is not None
        found = routing_options(db, case)
        return [u.slug for u in found.targets], [u.slug for u in found.excluded], found.blocked


def test_excluding_every_route_target_blocks_routing_and_says_so(
    database: Database, settings: Settings
) -> None:
    shut = submit_case(database, settings, excluded=("inspection", "investigation"))
    assert options(database, shut.case_id) == (
        [],
        ["inspection", "investigation"],
        RoutingBlock.EXCLUDED_BY_REPORTER,
    )
    # Positive control: with one of them left, the case can go there.
    open_ = submit_case(database, settings, excluded=("investigation",))
    assert options(database, open_.case_id) == (["inspection"], ["investigation"], None)
