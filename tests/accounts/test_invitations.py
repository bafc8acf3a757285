"""One-time links: only a hash is stored, single use, expiry, setup only without admin."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts import invitations
from app.accounts.errors import AdminExistsError, InvalidInvitationError
from app.database import Database
from app.installation import UnknownUnitError
from app.models import Invitation, Reviewer, Unit, utcnow
from config import Settings
from tests.factories import make_account

pytestmark = pytest.mark.both_backends


def test_setup_link_stores_only_a_hash_and_is_single_use(database: Database) -> None:
    with database.session() as db:
        token = invitations.create_setup_link(db)
    assert len(token) >= 43
    with database.read_session() as db:
        [row] = db.scalars(select(Invitation)).all()
        assert row.token_hash == invitations.token_hash(token)
        assert token.encode() not in row.token_hash
        assert row.role == "admin" and row.kind == "setup"
        assert row.expires_at - row.created_at == timedelta(hours=1)
    with database.session() as db:
        assert invitations.redeem(db, token).used_at is not None
    with database.session() as db, pytest.raises(InvalidInvitationError):
        invitations.redeem(db, token)


def test_expired_and_unknown_links_are_refused(database: Database) -> None:
    past = utcnow() - timedelta(hours=2)
    with database.session() as db:
        token = invitations.create_setup_link(db, now=past)
    for candidate in (token, "nonsense", "", "x" * 500):
        with database.session() as db, pytest.raises(InvalidInvitationError):
            invitations.redeem(db, candidate)


def test_setup_link_refused_once_an_admin_exists(database: Database, settings: Settings) -> None:
    with database.session() as db:
        early = invitations.create_setup_link(db)
    make_account(database, settings, "root", role="admin")
    with database.session() as db, pytest.raises(AdminExistsError):
        invitations.create_setup_link(db)
    # a link made before the admin existed no longer works either
    with database.session() as db, pytest.raises(InvalidInvitationError):
        invitations.redeem(db, early)


def test_invitation_is_bound_to_unit_and_role(database: Database, settings: Settings) -> None:
    admin = make_account(database, settings, "root", role="admin")
    with database.session() as db:
        creator = db.get(Reviewer, admin.id)
        assert creator is not None
        with pytest.raises(UnknownUnitError):
            invitations.create_invitation(
                db, unit_slug="nowhere", role="reviewer", created_by=creator
            )
        token = invitations.create_invitation(
            db, unit_slug="inspection", role="observer", created_by=creator
        )
    with database.session() as db:
        invitation = invitations.redeem(db, token)
        assert invitation.role == "observer" and invitation.kind == "invite"
        unit = db.get(Unit, invitation.unit_id)
        assert unit is not None and unit.slug == "inspection"
