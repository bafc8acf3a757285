"""Exclusions hold in the keys: joining a unit the reporter excluded takes a reader out
of the case's wraps (a queued revocation), not only out of the SQL that lists it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.accounts import reviewers
from app.cases.access import load_actor, readable_by
from app.cases.grants import fulfil_pending_grants, grants_awaited_by
from app.cases.keys import try_unwrap
from app.database import Database
from app.models import Case, CaseKey, PendingGrant, Reviewer
from config import Settings
from crypto import Identity
from tests.factories import ReviewerKeys, make_reviewer, submit_case

pytestmark = pytest.mark.both_backends


def opens(database: Database, case_id: str, who: ReviewerKeys | Identity) -> dict[str, bool]:
    identity = who if isinstance(who, Identity) else who.identity
    with database.read_session() as db:
        return {
            k.kind: try_unwrap(k.wrap, [identity]) is not None
            for k in db.scalars(select(CaseKey).where(CaseKey.case_id == case_id))
        }


def join(database: Database, who: ReviewerKeys, *slugs: str) -> None:
    """The membership change itself (what an approved request or the operator does)."""
    with database.session() as db:
        reviewer = db.get(Reviewer, who.id)
        assert reviewer is not None
        reviewers.set_memberships(db, reviewer, slugs, actor="cli:test")


def test_a_reader_who_joins_an_excluded_unit_loses_the_case_key(
    database: Database, settings: Settings, recovery_identity: Identity
) -> None:
    reader = make_reviewer(database, "intake", username="nguyen-van-duc")
    colleague = make_reviewer(database, "intake", username="tran-thi-uyen")
    kept_out = submit_case(
        database, settings, details="Ủy ban xã đòi tiền, biên bản họp.pdf", excluded=("inspection",)
    )
    ordinary = submit_case(database, settings)
    # Positive control: the reader's key opens both cases today.
    assert opens(database, kept_out.case_id, reader) == {"case": True, "staff": True}

    join(database, reader, "intake", "inspection")
    # SQL already hides the case from them ...
    with database.read_session() as db:
        actor = load_actor(db, reader.id, reader.identity)
        assert (
            db.scalar(select(Case.id).where(Case.id == kept_out.case_id, readable_by(actor)))
            is None
        )
        revocation = db.execute(
            select(PendingGrant.case_id, PendingGrant.reason).where(
                PendingGrant.reviewer_id == reader.id
            )
        ).all()
        # ... and a revocation is queued; it is not "access they are waiting for".
        assert revocation == [(kept_out.case_id, "excluded")]
        assert grants_awaited_by(db, reader.id) == 0

    # Fulfilled by another reader of the case (or the recovery key, `grants fulfil`).
    with database.session() as db:
        done = fulfil_pending_grants(db, [colleague.identity], actor_label="reviewer:test")
    assert [d.case_id for d in done] == [kept_out.case_id]
    assert opens(database, kept_out.case_id, reader) == {"case": False, "staff": False}
    assert opens(database, kept_out.case_id, colleague) == {"case": True, "staff": True}
    assert opens(database, kept_out.case_id, recovery_identity)["case"]
    assert opens(database, ordinary.case_id, reader) == {"case": True, "staff": True}


def test_the_recovery_key_fulfils_a_revocation_nobody_else_can(
    database: Database, settings: Settings, recovery_identity: Identity
) -> None:
    reader = make_reviewer(database, "intake", username="le-thi-hoa")
    kept_out = submit_case(database, settings, excluded=("investigation",))
    join(database, reader, "intake", "investigation")
    with database.session() as db:
        # The reader's own key would do as well; the CLI brings the recovery key.
        done = fulfil_pending_grants(db, [recovery_identity], actor_label="cli:vanhanh")
    assert [d.case_id for d in done] == [kept_out.case_id]
    assert opens(database, kept_out.case_id, reader) == {"case": False, "staff": False}


def test_cases_that_excluded_the_unit_never_gain_its_new_member(
    database: Database, settings: Settings, recovery_identity: Identity
) -> None:
    """A newcomer to intake who is also an inspector is not wrapped into intake cases
    that excluded inspection, whoever fulfils the grants."""
    submit_case(database, settings)
    kept_out = submit_case(database, settings, excluded=("inspection",))
    newcomer = make_reviewer(database, username="pham-quoc-bao")
    join(database, newcomer, "inspection")
    join(database, newcomer, "inspection", "intake")
    with database.session() as db:
        fulfil_pending_grants(db, [recovery_identity], actor_label="cli:vanhanh")
    assert opens(database, kept_out.case_id, newcomer) == {"case": False, "staff": False}
