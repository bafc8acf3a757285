"""The two-person rule for access changes (app.accounts.approvals), with real keys.

An access change is only a request until a second admin approves: no membership, no
role, no reset and no pending grant exist before, so no key can be wrapped; the
requester cannot approve it, nor can the person it is about.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts import approvals, reviewers
from app.accounts.approvals import Decider
from app.cases.grants import fulfil_pending_grants
from app.cases.keys import try_unwrap
from app.database import Database
from app.models import (
    AccessChangeRequest,
    AuditEvent,
    CaseKey,
    Membership,
    PendingGrant,
    Reviewer,
    Unit,
    utcnow,
)
from app.models.vocabulary import AccessChangeKind
from config import Settings
from crypto import Identity, unwrap_identity_with_password
from tests.factories import Account, make_account, make_reviewer, submit_case, totp_key_for

pytestmark = pytest.mark.both_backends

REASON = "Bổ nhiệm vào Thanh tra thành phố theo Quyết định số 12/QĐ-UBND"


def _reviewer(db: object, account: Account) -> Reviewer:
    found = db.get(Reviewer, account.id)  # type: ignore[attr-defined]
    assert found is not None
    return found


def _units(database: Database, account: Account) -> list[str]:
    with database.read_session() as db:
        return sorted(
            db.scalars(
                select(Unit.slug)
                .join(Membership, Membership.unit_id == Unit.id)
                .where(Membership.reviewer_id == account.id)
            )
        )


def _grants(database: Database, account: Account) -> int:
    with database.read_session() as db:
        return int(
            db.scalar(
                select(func.count())
                .select_from(PendingGrant)
                .where(PendingGrant.reviewer_id == account.id)
            )
            or 0
        )


def _actions(database: Database) -> list[str]:
    with database.read_session() as db:
        return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def _approve(database: Database, settings: Settings, request_id: int, who: Account) -> object:
    with database.session() as db:
        return approvals.approve(
            db,
            request_id,
            Decider.admin(_reviewer(db, who)),
            password_kdf=settings.password_kdf,
            totp_key=totp_key_for(settings),
        )


@pytest.fixture
def admins(database: Database, settings: Settings) -> tuple[Account, Account]:
    # Members of the steering committee's unit: no intake case is theirs to read.
    return (
        make_account(database, settings, "root", role="admin", units=("oversight",)),
        make_account(database, settings, "hai", role="admin", units=("oversight",)),
    )


def test_a_unit_is_joined_only_after_a_second_admin_approves(
    database: Database,
    settings: Settings,
    admins: tuple[Account, Account],
    recovery_identity: Identity,
) -> None:
    root, hai = admins
    case = submit_case(database, settings, details="Biên bản họp về đất đai")
    with database.session() as db:
        change = approvals.request_memberships(
            db,
            Decider.admin(_reviewer(db, root)),
            _reviewer(db, root),
            ["oversight", "intake"],
            REASON,
        )
        [wanted] = change.requested
    # Nothing exists yet: no membership, no grant; a rewrap by anyone leaves root out.
    assert _units(database, root) == ["oversight"] and _grants(database, root) == 0
    with database.session() as db:
        fulfil_pending_grants(db, [recovery_identity], actor_label="test")
    root_identity = _identity(database, root)
    assert not _opens(database, case.case_id, root_identity)
    with pytest.raises(approvals.OwnRequestError):
        _approve(database, settings, wanted.id, root)
    assert _units(database, root) == ["oversight"]

    _approve(database, settings, wanted.id, hai)
    assert _units(database, root) == ["intake", "oversight"] and _grants(database, root) == 1
    with database.session() as db:
        fulfil_pending_grants(db, [recovery_identity], actor_label="test")
    assert _opens(database, case.case_id, root_identity)
    actions = _actions(database)
    assert actions.index("access_change.requested") < actions.index("access_change.approved")
    assert actions.index("access_change.approved") < actions.index("reviewer.memberships_changed")
    with database.read_session() as db:
        row = db.get(AccessChangeRequest, wanted.id)
        assert row is not None
        assert (row.status, row.decided_by_id, row.requested_by_id) == ("approved", hai.id, root.id)


def _identity(database: Database, account: Account) -> Identity:
    with database.read_session() as db:
        wrapped = _reviewer(db, account).wrapped_private_key
    assert wrapped is not None
    return unwrap_identity_with_password(wrapped, account.password)


def _opens(database: Database, case_id: str, identity: Identity) -> bool:
    with database.read_session() as db:
        wrap = db.scalars(
            select(CaseKey.wrap).where(CaseKey.case_id == case_id, CaseKey.kind == "case")
        ).one()
    return try_unwrap(wrap, [identity]) is not None


def test_nobody_approves_a_change_to_themselves(
    database: Database, settings: Settings, admins: tuple[Account, Account]
) -> None:
    root, hai = admins
    third = make_account(database, settings, "lan", role="admin")
    with database.session() as db:
        request = approvals.request_reset(
            db,
            Decider.admin(_reviewer(db, root)),
            _reviewer(db, hai),
            AccessChangeKind.PASSWORD_RESET,
            "Quên mật khẩu",
        )
    with pytest.raises(approvals.OwnChangeError):
        _approve(database, settings, request.id, hai)
    with pytest.raises(approvals.OwnRequestError):
        _approve(database, settings, request.id, root)
    with database.read_session() as db:
        assert _reviewer(db, hai).public_key == hai.public_key  # nothing happened yet
    outcome = _approve(database, settings, request.id, third)
    password = outcome.temporary_password  # type: ignore[attr-defined]
    assert password
    with database.read_session() as db:
        after = _reviewer(db, hai)
        assert after.public_key != hai.public_key
        assert after.wrapped_private_key is not None
        assert str(
            unwrap_identity_with_password(after.wrapped_private_key, password).recipient
        ) == (after.public_key)


def test_a_reset_changes_nothing_until_approved_and_a_refusal_nothing_at_all(
    database: Database, settings: Settings, admins: tuple[Account, Account]
) -> None:
    root, hai = admins
    alice = make_account(database, settings, "alice", units=("intake",))

    def state() -> tuple[object, ...]:
        with database.read_session() as db:
            row = _reviewer(db, alice)
            return (row.password_hash, row.public_key, row.totp_secret, row.wrapped_private_key)

    before = state()
    with database.session() as db:
        asked = [
            approvals.request_reset(
                db, Decider.admin(_reviewer(db, root)), _reviewer(db, alice), kind, "Mất điện thoại"
            ).id
            for kind in (AccessChangeKind.PASSWORD_RESET, AccessChangeKind.TOTP_RESET)
        ]
    assert state() == before
    with database.session() as db:
        for request_id in asked:
            approvals.refuse(db, request_id, Decider.admin(_reviewer(db, hai)))
    assert state() == before
    with pytest.raises(approvals.NotPendingError):
        _approve(database, settings, asked[0], hai)
    assert state() == before and _actions(database).count("access_change.refused") == 2


def test_a_request_expires_after_seven_days(
    database: Database, settings: Settings, admins: tuple[Account, Account]
) -> None:
    root, hai = admins
    observer = make_account(database, settings, "quan-sat", role="observer", units=("oversight",))
    with database.session() as db:
        request = approvals.request_role(
            db, Decider.admin(_reviewer(db, root)), _reviewer(db, observer), "reviewer", REASON
        )
        assert request is not None
    later = utcnow() + approvals.REQUEST_TTL + timedelta(minutes=1)
    with database.session() as db:
        assert approvals.expire_stale(db, later) == 1
    with pytest.raises(approvals.NotPendingError):
        _approve(database, settings, request.id, hai)
    with database.read_session() as db:
        assert _reviewer(db, observer).role == "observer"
        assert db.get(AccessChangeRequest, request.id).status == "expired"  # type: ignore[union-attr]
    assert "access_change.expired" in _actions(database)


def test_a_higher_role_waits_a_lower_one_does_not(
    database: Database, settings: Settings, admins: tuple[Account, Account]
) -> None:
    root, hai = admins
    alice = make_account(database, settings, "alice", units=("intake",))
    with database.session() as db:
        asked = approvals.request_role(
            db, Decider.admin(_reviewer(db, root)), _reviewer(db, alice), "admin", REASON
        )
        assert asked is not None
    with database.read_session() as db:
        assert _reviewer(db, alice).role == "reviewer"
    _approve(database, settings, asked.id, hai)
    with database.session() as db:
        assert _reviewer(db, alice).role == "admin"
        # Down again: at once, by one admin (it takes power away).
        assert (
            approvals.request_role(
                db, Decider.admin(_reviewer(db, root)), _reviewer(db, alice), "observer", ""
            )
            is None
        )
    with database.read_session() as db:
        assert _reviewer(db, alice).role == "observer"


def test_reason_is_required_and_duplicates_are_refused(
    database: Database, settings: Settings, admins: tuple[Account, Account]
) -> None:
    root, _ = admins
    alice = make_account(database, settings, "alice", units=("intake",))
    with database.session() as db, pytest.raises(approvals.ReasonRequiredError):
        approvals.request_memberships(
            db, Decider.admin(_reviewer(db, root)), _reviewer(db, alice), ["inspection"], "  "
        )
    with database.session() as db:
        approvals.request_memberships(
            db,
            Decider.admin(_reviewer(db, root)),
            _reviewer(db, alice),
            ["intake", "inspection"],
            REASON,
        )
    with database.session() as db, pytest.raises(approvals.AlreadyPendingError):
        approvals.request_memberships(
            db,
            Decider.admin(_reviewer(db, root)),
            _reviewer(db, alice),
            ["intake", "inspection"],
            REASON,
        )
    with database.read_session() as db:
        assert db.scalar(select(func.count()).select_from(AccessChangeRequest)) == 1


def test_an_invitation_brings_its_unit_only_with_another_admins_approval(
    database: Database, settings: Settings, admins: tuple[Account, Account]
) -> None:
    from app.accounts import invitations

    root, hai = admins
    with database.session() as db:
        token = invitations.create_invitation(
            db, unit_slug="inspection", role="admin", created_by=_reviewer(db, root)
        )
    credentials = reviewers.prepare_credentials(
        username="lan", password="một mật khẩu đủ dài", password_kdf=settings.password_kdf
    )
    with database.session() as db:
        invitation = invitations.redeem(db, token)
        lan = approvals.enrol_invited(
            db,
            invitation,
            credentials,
            totp_key=totp_key_for(settings),
            totp_secret="JBSWY3DPEHPK3PXP",
            totp_last_step=0,
        )
        lan_id = lan.id
        assert (lan.role, [m.unit_id for m in lan.memberships]) == ("reviewer", [])
    with database.read_session() as db:
        asked = db.scalars(select(AccessChangeRequest).order_by(AccessChangeRequest.id)).all()
        assert [(r.kind, r.value, r.requested_by_id) for r in asked] == [
            ("membership", None, root.id),
            ("role", "admin", root.id),
        ]
    for request in asked:
        with pytest.raises(approvals.OwnRequestError):
            _approve(database, settings, request.id, root)
        _approve(database, settings, request.id, hai)
    with database.read_session() as db:
        lan_row = db.get(Reviewer, lan_id)
        assert lan_row is not None and lan_row.role == "admin"
        assert [m.unit.slug for m in lan_row.memberships] == ["inspection"]


def test_a_new_recovery_key_needs_approval(
    database: Database,
    settings: Settings,
    admins: tuple[Account, Account],
    recovery_identity: Identity,
) -> None:
    root, hai = admins
    replacement = Identity.generate()
    with database.session() as db:
        asked = approvals.request_recovery_key(
            db, Decider.admin(_reviewer(db, root)), str(replacement.recipient), "Khóa mới"
        )
        with pytest.raises(approvals.InvalidRecipientError):
            approvals.request_recovery_key(db, Decider.admin(_reviewer(db, root)), "age1xyz", "x")
    first = submit_case(database, settings)
    assert _recovery_opens(database, first.case_id, recovery_identity)
    assert not _recovery_opens(database, first.case_id, replacement)
    _approve(database, settings, asked.id, hai)
    second = submit_case(database, settings)
    assert _recovery_opens(database, second.case_id, replacement)


def _recovery_opens(database: Database, case_id: str, identity: Identity) -> bool:
    return _opens(database, case_id, identity)


def test_the_operator_approves_when_there_is_one_admin(
    database: Database, settings: Settings
) -> None:
    root = make_account(database, settings, "root", role="admin", units=("oversight",))
    with database.read_session() as db:
        assert not approvals.approvals_possible_here(db)
    with database.session() as db:
        [asked] = approvals.request_memberships(
            db,
            Decider.admin(_reviewer(db, root)),
            _reviewer(db, root),
            ["oversight", "inspection"],
            REASON,
        ).requested
    with database.session() as db:
        approvals.approve(
            db,
            asked.id,
            Decider("cli:vanhanh(sudo:ngoc)"),
            password_kdf=settings.password_kdf,
            totp_key=totp_key_for(settings),
        )
    assert _units(database, root) == ["inspection", "oversight"]
    with database.read_session() as db:
        event = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "access_change.approved")
        ).one()
        assert event.actor == "cli:vanhanh(sudo:ngoc)"


def test_joining_an_excluded_unit_loses_the_keys_not_only_sql(
    database: Database,
    settings: Settings,
    admins: tuple[Account, Account],
    recovery_identity: Identity,
) -> None:
    """Exclusions in the keys: an intake reader who joins a unit the reporter excluded
    is rewrapped out of the case, fulfilled by the recovery key (or another reader)."""
    root, hai = admins
    reader = make_reviewer(database, "intake", username="doc-gia")
    colleague = make_reviewer(database, "intake", username="dong-nghiep")
    kept_out = submit_case(database, settings, excluded=("inspection",))
    ordinary = submit_case(database, settings)
    assert _opens(database, kept_out.case_id, reader.identity)  # positive control
    with database.session() as db:
        target = db.get(Reviewer, reader.id)
        assert target is not None
        [asked] = approvals.request_memberships(
            db, Decider.admin(_reviewer(db, root)), target, ["intake", "inspection"], REASON
        ).requested
    # Before the approval nothing changes, in SQL or in keys.
    assert _opens(database, kept_out.case_id, reader.identity)
    _approve(database, settings, asked.id, hai)
    with database.read_session() as db:
        revocations = db.execute(
            select(PendingGrant.case_id, PendingGrant.reason).where(
                PendingGrant.reviewer_id == reader.id
            )
        ).all()
    assert revocations == [(kept_out.case_id, "excluded")]
    with database.session() as db:
        done = fulfil_pending_grants(db, [colleague.identity], actor_label="reviewer:test")
        assert [d.case_id for d in done] == [kept_out.case_id]
    assert not _opens(database, kept_out.case_id, reader.identity)
    assert _opens(database, kept_out.case_id, colleague.identity)
    assert _opens(database, kept_out.case_id, recovery_identity)
    assert _opens(database, ordinary.case_id, reader.identity)
