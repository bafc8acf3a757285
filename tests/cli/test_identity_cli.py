"""``custodians list | remove`` and ``identity stale | reseal`` (issue 13 §2): after a
routing, the operator reseals a named case for the new unit's custodians with the
offline recovery identity."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.cases.access import load_actor
from app.cases.identity import IdentityFields
from app.cases.keys import try_unwrap
from app.cases.workflow import route
from app.database import Database
from app.models import Case, SealedIdentity
from config import Settings
from crypto import Identity
from tests.factories import make_custodian, make_reviewer, submit_case

NGUYEN = IdentityFields(
    "Nguyễn Thị Ủ", "092187001234", "Đường Trần Hưng Đạo, phường Ninh Kiều", "0901 234 567"
)


def test_reseal_after_routing_with_the_recovery_identity(
    cli: Any, database: Database, settings: Settings, recovery_identity: Identity, tmp_path: Path
) -> None:
    member = make_reviewer(database, "intake", username="le-thi-dieu")
    chief = make_reviewer(database, "inspection", username="chanh-thanh-tra-dang")
    make_custodian(database, chief, "inspection")
    case = submit_case(database, settings, identity=NGUYEN)
    with database.session() as db:
        row = db.get(Case, case.case_id)
        assert row is not None
        route(db, load_actor(db, member.id, member.identity), row, "inspection", "Thẩm quyền")
        reference = row.reference
    listed = cli.invoke(args=["custodians", "list"])
    assert "inspection\tchanh-thanh-tra-dang" in listed.output
    stale = cli.invoke(args=["identity", "stale"])
    assert reference in stale.output and "1 seal(s)" in stale.output

    wrong = tmp_path / "wrong.txt"
    wrong.write_text(f"{Identity.generate()}\n")
    refused = cli.invoke(args=["identity", "reseal", "--identity", str(wrong)])
    assert refused.exit_code == 1 and "resealed 0" in refused.output

    identity_file = tmp_path / "recovery.txt"
    identity_file.write_text(f"# recovery key\n{recovery_identity}\n")
    done = cli.invoke(args=["identity", "reseal", "--identity", str(identity_file)])
    assert done.exit_code == 0, done.output
    assert "resealed 1" in done.output and str(recovery_identity) not in done.output
    with database.read_session() as db:
        seal = db.scalars(select(SealedIdentity)).one()
        assert try_unwrap(seal.wrap, [chief.identity]) is not None

    removed = cli.invoke(args=["custodians", "remove", "chanh-thanh-tra-dang", "inspection"])
    assert removed.exit_code == 0
    assert "0 custodian(s)" in cli.invoke(args=["custodians", "list"]).output
    again = cli.invoke(args=["custodians", "remove", "chanh-thanh-tra-dang", "inspection"])
    assert again.exit_code == 1
