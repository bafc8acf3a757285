"""Admin pages for reviewers; authorization and CSRF on every account POST."""

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from app.database import Database
from app.models import AccessChangeRequest, AuditEvent, Invitation, Reviewer
from config import Settings
from tests.conftest import CsrfClient
from tests.factories import Account, code, login, make_account, secret_on_page

ADMIN_POSTS = [
    "/admin/reviewers/invite",
    "/admin/reviewers/{id}/deactivate",
    "/admin/reviewers/{id}/reset-password",
    "/admin/reviewers/{id}/reset-totp",
    "/admin/reviewers/{id}/role",
    "/admin/reviewers/{id}/units",
]
ALL_POSTS = [
    "/login",
    "/login/totp",
    "/logout",
    "/account/password",
    "/setup/sometoken",
    "/invite/sometoken",
    *ADMIN_POSTS,
]


@pytest.fixture
def admin(database: Database, settings: Settings) -> Account:
    return make_account(database, settings, "root", role="admin")


@pytest.fixture
def alice(database: Database, settings: Settings) -> Account:
    return make_account(database, settings, "alice", units=("intake",))


@pytest.fixture
def as_admin(review_client: CsrfClient, database: Database, admin: Account) -> CsrfClient:
    review_client.get("/login?lang=en")
    assert login(review_client, database, admin).status_code == 302
    return review_client


def _reviewer(database: Database, reviewer_id: int) -> Reviewer:
    with database.read_session() as db:
        reviewer = db.get(Reviewer, reviewer_id)
        assert reviewer is not None
        db.expunge(reviewer)
        return reviewer


def _count(database: Database, model: Any) -> int:
    with database.read_session() as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def test_list_shows_reviewers(as_admin: CsrfClient, alice: Account) -> None:
    page = as_admin.get("/admin/reviewers")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "alice" in html and "root" in html and "intake" in html


@pytest.mark.parametrize("path", ALL_POSTS)
def test_csrf_refused_on_every_post(
    as_admin: CsrfClient, database: Database, alice: Account, path: str
) -> None:
    events = _count(database, AuditEvent)
    response = as_admin.post(path.format(id=alice.id), data={"role": "admin", "unit": "intake"})
    assert response.status_code == 400
    assert _count(database, AuditEvent) == events
    assert _reviewer(database, alice.id).role == "reviewer"


def test_logged_out_is_redirected_to_login(
    review_client: CsrfClient, database: Database, alice: Account
) -> None:
    response = review_client.get("/admin/reviewers")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert review_client.get("/account/password").status_code == 302
    for path in ADMIN_POSTS:
        posted = review_client.submit("/login", {}, action=path.format(id=alice.id))
        assert posted.status_code == 302 and "/login" in posted.headers["Location"]


@pytest.mark.parametrize("role", ["reviewer", "observer"])
def test_non_admins_get_403(
    review_client: CsrfClient, database: Database, settings: Settings, admin: Account, role: str
) -> None:
    user = make_account(database, settings, "someone", role=role, units=("inspection",))
    login(review_client, database, user)
    assert review_client.get("/admin/reviewers").status_code == 403
    events = _count(database, AuditEvent)
    for path in ADMIN_POSTS:
        posted = review_client.submit(
            "/account/password",
            {"role": "admin", "unit": "intake"},
            action=path.format(id=admin.id),
        )
        assert posted.status_code == 403, path
    assert _count(database, AuditEvent) == events
    assert _reviewer(database, user.id).role == role


def test_invitation_is_bound_to_unit_and_role(
    as_admin: CsrfClient, review_app: Any, database: Database, settings: Settings
) -> None:
    page = as_admin.submit(
        "/admin/reviewers",
        {"unit": "inspection", "role": "observer"},
        action="/admin/reviewers/invite",
    )
    assert page.status_code == 200
    match = re.search(
        re.escape(settings.review_url) + r"(/invite/[A-Za-z0-9_-]+)", page.get_data(as_text=True)
    )
    assert match
    path = match.group(1)
    # Shown once: the list page does not show it again.
    assert path not in as_admin.get("/admin/reviewers").get_data(as_text=True)
    newcomer: Any = review_app.test_client()
    password = "a long enough passphrase"
    step1 = newcomer.submit(
        path,
        # extra fields cannot change what the invitation grants
        {
            "username": "lan",
            "password": password,
            "password_confirm": password,
            "role": "admin",
            "unit": "intake",
        },
    )
    assert step1.status_code == 302
    secret = secret_on_page(newcomer.get(path).get_data(as_text=True))
    assert newcomer.submit(path, {"totp": code(secret), "role": "admin"}).status_code == 302
    with database.read_session() as db:
        lan = db.scalars(select(Reviewer).where(Reviewer.username == "lan")).one()
        assert lan.role == "observer"
        # The unit waits for a second admin (tests/review/test_access_approvals.py).
        assert [m.unit.slug for m in lan.memberships] == []
        [wanted] = db.scalars(select(AccessChangeRequest)).all()
        assert (wanted.kind, wanted.target_id, wanted.status) == ("membership", lan.id, "pending")
        invitation = db.scalars(select(Invitation).where(Invitation.kind == "invite")).one()
        assert invitation.used_at is not None
    assert newcomer.get(path).status_code == 404


def test_role_units_and_deactivation(
    as_admin: CsrfClient, database: Database, admin: Account, alice: Account
) -> None:
    base = f"/admin/reviewers/{alice.id}"
    assert (
        as_admin.submit("/admin/reviewers", {"role": "observer"}, action=f"{base}/role").status_code
        == 302
    )
    assert (
        as_admin.submit("/admin/reviewers", {"role": "king"}, action=f"{base}/role").status_code
        == 400
    )
    units = as_admin.submit(
        "/admin/reviewers",
        {"units": ["inspection", "investigation"], "reason": "Chuyển sang Thanh tra"},
        action=f"{base}/units",
    )
    assert units.status_code == 302 and units.headers["Location"].endswith("/admin/access")
    assert (
        as_admin.submit(
            "/admin/reviewers", {"units": ["nowhere"]}, action=f"{base}/units"
        ).status_code
        == 400
    )
    assert as_admin.submit("/admin/reviewers", {}, action=f"{base}/deactivate").status_code == 302
    reviewer = _reviewer(database, alice.id)
    assert reviewer.role == "observer" and not reviewer.active
    with database.read_session() as db:
        alice_row = db.get(Reviewer, alice.id)
        assert alice_row is not None
        # Leaving intake took effect; joining waits for a second admin.
        assert [m.unit.slug for m in alice_row.memberships] == []
        requests = db.scalars(select(AccessChangeRequest).order_by(AccessChangeRequest.id)).all()
        assert [(r.kind, r.status) for r in requests] == [("membership", "pending")] * 2
    # the only admin cannot deactivate themselves
    refused = as_admin.submit(
        "/admin/reviewers", {}, action=f"/admin/reviewers/{admin.id}/deactivate"
    )
    assert refused.status_code == 400
    assert "without an active administrator" in refused.get_data(as_text=True)
    assert (
        as_admin.submit(
            "/admin/reviewers", {}, action="/admin/reviewers/999/deactivate"
        ).status_code
        == 404
    )
