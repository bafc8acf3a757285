"""Two people for access changes, through the review app as admins use it.

Today's forms (units, role, password and authenticator resets) now only ask; a second
admin's approval on /admin/access carries the change out. Checked with real keys: an
admin who asks for a unit cannot read its cases until someone else approves.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from app.database import Database
from app.models import AccessChangeRequest, Membership, PendingGrant, Reviewer, Unit
from tests.factories import Staff, allow_next_code, code, login, review_test_client, secret_on_page
from tests.review.conftest import ReportFactory, StaffFactory

REASON = "Bổ nhiệm vào Tổ tiếp nhận theo Quyết định 12/QĐ-UBND"


def _units(database: Database, who: Staff) -> list[str]:
    with database.read_session() as db:
        return sorted(
            db.scalars(
                select(Unit.slug)
                .join(Membership, Membership.unit_id == Unit.id)
                .where(Membership.reviewer_id == who.id)
            )
        )


def _grants(database: Database, who: Staff) -> int:
    with database.read_session() as db:
        query = select(func.count()).select_from(PendingGrant)
        return int(db.scalar(query.where(PendingGrant.reviewer_id == who.id)) or 0)


def _request_id(database: Database, kind: str, target: Staff) -> int:
    with database.read_session() as db:
        return int(
            db.scalars(
                select(AccessChangeRequest.id).where(
                    AccessChangeRequest.kind == kind,
                    AccessChangeRequest.target_id == target.id,
                    AccessChangeRequest.status == "pending",
                )
            ).one()
        )


def _public_key(database: Database, who: Staff) -> str | None:
    with database.read_session() as db:
        row = db.get(Reviewer, who.id)
        assert row is not None
        return row.public_key


@pytest.fixture
def admins(staff: StaffFactory) -> tuple[Staff, Staff]:
    # In the steering committee's unit: no intake case is theirs to read.
    return staff("root", "oversight", role="admin"), staff("hai", "oversight", role="admin")


def test_an_admin_cannot_give_themselves_a_unit(
    admins: tuple[Staff, Staff], staff: StaffFactory, report: ReportFactory, database: Database
) -> None:
    root, hai = admins
    uyen = staff("uyen", "intake")
    sent = report(attachment=True)
    asked = root.post(
        f"/admin/reviewers/{root.id}/units", {"units": ["oversight", "intake"], "reason": REASON}
    )
    assert asked.status_code == 302 and asked.headers["Location"].endswith("/admin/access")
    # No membership, no grant: a colleague's inbox visit wraps nothing to root.
    assert _units(database, root) == ["oversight"] and _grants(database, root) == 0
    assert uyen.client.get("/inbox").status_code == 200
    assert root.client.get(f"/cases/{sent.case_id}").status_code == 404

    page = root.client.get("/admin/access").get_data(as_text=True)
    request_id = _request_id(database, "membership", root)
    assert REASON in page and "Your request: another administrator decides." in page
    assert f"/admin/access/{request_id}/approve" not in page
    refused = root.post(f"/admin/access/{request_id}/approve")
    assert refused.status_code == 400
    assert "another administrator must approve it" in refused.get_data(as_text=True)
    assert _units(database, root) == ["oversight"]

    assert f"/admin/access/{request_id}/approve" in hai.client.get("/admin/access").get_data(
        as_text=True
    )
    approved = hai.post(f"/admin/access/{request_id}/approve")
    assert approved.status_code == 303
    assert _units(database, root) == ["intake", "oversight"] and _grants(database, root) == 1
    assert uyen.client.get("/inbox").status_code == 200  # her key opens the way
    case_page = root.client.get(f"/cases/{sent.case_id}")
    assert case_page.status_code == 200 and sent.canary in case_page.get_data(as_text=True)


def test_a_password_reset_waits_and_the_approver_sees_the_password(
    admins: tuple[Staff, Staff], staff: StaffFactory, database: Database, review_app: Any
) -> None:
    root, hai = admins
    alice = staff("alice", "intake")
    key_before = _public_key(database, alice)
    asked = root.post(f"/admin/reviewers/{alice.id}/reset-password", {"reason": "Quên mật khẩu"})
    assert asked.status_code == 302
    # Nothing happened to alice: same key, her session still works.
    assert _public_key(database, alice) == key_before
    assert alice.client.get("/account/password").status_code == 200

    approved = hai.post(f"/admin/access/{_request_id(database, 'password_reset', alice)}/approve")
    html = approved.get_data(as_text=True)
    assert approved.status_code == 200
    match = re.search(r'<code class="one-time">([A-Za-z0-9_-]{20})</code>', html)
    assert match, html[:3000]
    assert _public_key(database, alice) != key_before
    assert alice.client.get("/account/password").status_code == 302  # logged out
    fresh = review_test_client(review_app)
    assert login(fresh, database, alice.account, password=match.group(1)).status_code == 302
    assert fresh.get("/account/password").status_code == 200


def test_an_authenticator_reset_is_approved_by_someone_else_than_its_target(
    admins: tuple[Staff, Staff], staff: StaffFactory, database: Database, review_app: Any
) -> None:
    root, hai = admins
    lan = staff("lan", "oversight", role="admin")
    # hai asks for a new authenticator for root: root may not approve it, lan may.
    asked = hai.post(f"/admin/reviewers/{root.id}/reset-totp", {"reason": "Mất điện thoại"})
    assert asked.status_code == 302
    request_id = _request_id(database, "totp_reset", root)
    page = root.client.get("/admin/access").get_data(as_text=True)
    assert "About you: another administrator decides." in page
    refused = root.post(f"/admin/access/{request_id}/approve")
    assert refused.status_code == 400
    assert "This change is about you" in refused.get_data(as_text=True)
    assert hai.post(f"/admin/access/{request_id}/approve").status_code == 400

    approved = lan.post(f"/admin/access/{request_id}/approve")
    assert approved.status_code == 200
    secret = secret_on_page(approved.get_data(as_text=True))
    assert secret != root.account.secret
    client = review_test_client(review_app)
    allow_next_code(database, root.account)
    client.submit("/login", {"username": "root", "password": root.account.password})
    assert client.submit("/login/totp", {"totp": code(secret)}).status_code == 302


def test_a_refused_request_changes_nothing(
    admins: tuple[Staff, Staff], staff: StaffFactory, database: Database
) -> None:
    root, hai = admins
    alice = staff("alice", "intake")
    asked = root.post(f"/admin/reviewers/{alice.id}/role", {"role": "admin", "reason": REASON})
    assert asked.status_code == 302
    request_id = _request_id(database, "role", alice)
    done = hai.post(f"/admin/access/{request_id}/refuse")
    assert done.status_code == 303
    with database.read_session() as db:
        assert db.get(Reviewer, alice.id).role == "reviewer"  # type: ignore[union-attr]
        assert db.get(AccessChangeRequest, request_id).status == "refused"  # type: ignore[union-attr]
    again = hai.post(f"/admin/access/{request_id}/approve")
    assert again.status_code == 400 and "no longer waiting" in again.get_data(as_text=True)


def test_a_request_without_a_reason_is_refused(
    admins: tuple[Staff, Staff], staff: StaffFactory, database: Database
) -> None:
    root, _ = admins
    alice = staff("alice", "intake")
    refused = root.post(f"/admin/reviewers/{alice.id}/units", {"units": ["intake", "inspection"]})
    assert refused.status_code == 400
    assert "Give a reason" in refused.get_data(as_text=True)
    assert _units(database, alice) == ["intake"]
    with database.read_session() as db:
        assert db.scalar(select(func.count()).select_from(AccessChangeRequest)) == 0


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "There is only one active administrator"),
        ("vi", "Chỉ có một quản trị viên"),
    ],
)
def test_with_one_admin_the_page_points_to_the_operator(
    staff: StaffFactory, lang: str, text: str
) -> None:
    root = staff("root", "oversight", role="admin")
    page = root.client.get(f"/admin/access?lang={lang}").get_data(as_text=True)
    assert text in page and "access approve" in page
    second = staff("hai", "oversight", role="admin")
    assert text not in second.client.get(f"/admin/access?lang={lang}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("lang", "heading", "pending"),
    [
        ("en", "Access changes in your units", "waiting for a second administrator"),
        ("vi", "Thay đổi quyền truy cập trong đơn vị của bạn", "đang chờ quản trị viên thứ hai"),
    ],
)
def test_members_of_the_unit_are_told(
    admins: tuple[Staff, Staff],
    staff: StaffFactory,
    database: Database,
    lang: str,
    heading: str,
    pending: str,
) -> None:
    root, hai = admins
    alice = staff("alice", "intake")
    tuan = staff("tuan", "inspection")
    assert heading not in alice.client.get(f"/inbox?lang={lang}").get_data(as_text=True)
    root.post(
        f"/admin/reviewers/{tuan.id}/units", {"units": ["inspection", "intake"], "reason": REASON}
    )
    inbox = alice.client.get(f"/inbox?lang={lang}").get_data(as_text=True)
    assert heading in inbox and pending in inbox and "tuan" in inbox
    # Someone of another unit is not told about intake's change.
    outsider = staff("mai", "investigation")
    assert heading not in outsider.client.get(f"/inbox?lang={lang}").get_data(as_text=True)
    hai.post(f"/admin/access/{_request_id(database, 'membership', tuan)}/approve")
    after = alice.client.get(f"/inbox?lang={lang}").get_data(as_text=True)
    assert heading in after and pending not in after


def test_the_keys_page_shows_a_revocation_from_an_exclusion(
    admins: tuple[Staff, Staff], staff: StaffFactory, report: ReportFactory, database: Database
) -> None:
    root, hai = admins
    duc = staff("duc", "intake")
    kept_out = report(excluded=["inspection"])
    root.post(
        f"/admin/reviewers/{duc.id}/units", {"units": ["intake", "inspection"], "reason": REASON}
    )
    hai.post(f"/admin/access/{_request_id(database, 'membership', duc)}/approve")
    page = hai.client.get("/admin/keys").get_data(as_text=True)
    assert kept_out.reference in page
    assert "joined a unit the reporter excluded: key to be taken out" in page
    vi = hai.client.get("/admin/keys?lang=vi").get_data(as_text=True)
    assert "đơn vị mà người phản ánh đã loại trừ" in vi
