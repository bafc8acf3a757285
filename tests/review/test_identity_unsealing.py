"""A named denunciation through both apps (issue 13 §2): reviewers see "identity sealed"
and not the identity; a reviewer asks with a reason, a custodian (another person)
approves, only then the requester sees it; the reporter's follow-up page says on which
day and by which unit it was unsealed."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from app.cases import custodians
from app.database import Database
from app.models import Case, Reviewer, Unit
from tests.conftest import CsrfClient
from tests.factories import open_case, receipt_from, report_answers, send_report
from tests.review.conftest import StaffFactory, audit_actions

CANARY = "CANARY-review-3a9d"
IDENTITY = {
    "track": "named",
    "identity_full_name": f"Nguyễn Thị Ủ {CANARY}",
    "identity_id_number": "092187001234",
    "identity_address": "Đường Trần Hưng Đạo, phường Ninh Kiều",
    "identity_contact": "0901 234 567",
}


def designate(database: Database, reviewer_id: int, unit_slug: str) -> None:
    with database.session() as db:
        reviewer = db.get(Reviewer, reviewer_id)
        unit = db.scalars(select(Unit).where(Unit.slug == unit_slug)).one()
        assert reviewer is not None
        custodians.designate(db, reviewer, unit, actor="cli:test")


def _html(response: Any, status: int = 200) -> str:
    html: str = response.get_data(as_text=True)
    assert response.status_code == status, html[:2000]
    return html


def test_unsealing_through_both_apps(
    intake_client: CsrfClient, database: Database, staff: StaffFactory
) -> None:
    head = staff("truong-phong-hung", "intake")
    member = staff("le-thi-dieu", "intake")
    designate(database, head.id, "intake")
    response = send_report(intake_client, {**report_answers(), **IDENTITY})
    receipt = receipt_from(response)
    with database.read_session() as db:
        case = db.scalars(select(Case)).one()
        case_id = case.id
    path = f"/cases/{case_id}"

    assert "Danh tính được niêm phong" in _html(member.client.get(f"{path}?lang=vi"))
    page = _html(member.client.get(f"{path}?lang=en"))
    assert "Identity sealed" in page
    assert CANARY not in page and "092187001234" not in page
    assert "Open the identity" not in page
    refused = member.post(f"{path}/identity/open")
    assert refused.status_code == 303
    assert CANARY not in _html(member.client.get(path))

    # Step 1: the member asks, with a reason.
    assert member.post(f"{path}/identity/request", {"reason": "  "}).status_code == 303
    assert "Please give a reason" in _html(member.client.get(path))
    sent = member.post(f"{path}/identity/request", {"reason": "Cần xác minh lời khai"})
    assert sent.status_code == 303
    still = member.post(f"{path}/identity/open")
    assert still.status_code == 303  # asked is not granted

    # Step 2: the custodian sees the reason and approves.
    head_page = _html(head.client.get(path))
    assert "Cần xác minh lời khai" in head_page
    request_id = re.search(r"/identity/requests/(\d+)/approve", head_page)
    assert request_id, head_page
    approved = head.post(f"{path}/identity/requests/{request_id.group(1)}/approve")
    assert approved.status_code == 303

    shown = _html(member.post(f"{path}/identity/open"))
    assert CANARY in shown and "Ninh Kiều" in shown
    assert shown and member.post(f"{path}/identity/open").headers["Cache-Control"] == "no-store"
    actions = audit_actions(database, case_id)
    assert "identity.unseal_requested" in actions and "identity.unsealed" in actions
    assert "identity.opened" in actions

    # Nowhere else: not in the inbox, the dashboard or its CSV export.
    admin = staff("quan-tri-an", "intake", role="admin")
    for where in ("/inbox", "/dashboard", "/dashboard.csv"):
        body = _html(admin.client.get(where))
        assert CANARY not in body and "092187001234" not in body, where

    # The reporter sees the day and the unit, never who.
    open_case(intake_client, receipt)
    followup = _html(intake_client.get("/followup/case"))
    assert "đã được mở niêm phong ngày" in followup
    assert "truong-phong-hung" not in followup and "le-thi-dieu" not in followup
    assert re.search(r"\d{2}/\d{2}/\d{4}", followup)


def test_a_custodian_cannot_approve_their_own_request(
    intake_client: CsrfClient, database: Database, staff: StaffFactory
) -> None:
    head = staff("truong-phong-hung", "intake")
    designate(database, head.id, "intake")
    send_report(intake_client, {**report_answers(), **IDENTITY})
    with database.read_session() as db:
        case_id = db.scalars(select(Case.id)).one()
    path = f"/cases/{case_id}"
    # The custodian can open it (they hold the seal) ...
    assert CANARY in _html(head.post(f"{path}/identity/open"))


def test_an_anonymous_case_shows_no_identity_panel(
    intake_client: CsrfClient, database: Database, staff: StaffFactory
) -> None:
    member = staff("le-thi-dieu", "intake")
    send_report(intake_client, report_answers())
    with database.read_session() as db:
        case_id = db.scalars(select(Case.id)).one()
    page = _html(member.client.get(f"/cases/{case_id}"))
    assert "Identity sealed" not in page and "Request unsealing" not in page


def test_routing_hands_the_seal_over_at_the_old_custodians_inbox(
    intake_client: CsrfClient, database: Database, staff: StaffFactory
) -> None:
    head = staff("truong-phong-hung", "intake")
    member = staff("le-thi-dieu", "intake")
    chief = staff("chanh-thanh-tra-dang", "inspection")
    designate(database, head.id, "intake")
    designate(database, chief.id, "inspection")
    send_report(intake_client, {**report_answers(), **IDENTITY})
    with database.read_session() as db:
        case_id = db.scalars(select(Case.id)).one()
    path = f"/cases/{case_id}"
    routed = member.post(
        f"{path}/route", {"unit": "inspection", "reason": "Thẩm quyền", "confirm": "yes"}
    )
    assert routed.status_code == 303
    # Not yet handed over: the new unit's custodian cannot open it.
    assert "Open the identity" not in _html(chief.client.get(path))
    assert chief.post(f"{path}/identity/open").status_code == 303
    # The former custodian opens their inbox: the seal moves to the new unit.
    _html(head.client.get("/inbox"))
    assert "identity.resealed" in audit_actions(database, case_id)
    assert CANARY in _html(chief.post(f"{path}/identity/open"))
    assert head.client.get(path).status_code == 404  # and the old custodian is out
