"""CSRF: every POST route of the review app, found in ``review_app.url_map`` and filled
with real ids (a case, a reviewer, a live invitation), refuses a request without a token
with 400 and changes nothing - for a logged-in admin (who could otherwise do all of it)
and for a visitor who is not logged in.

The world is built once for the module: every test only checks refusals that change
nothing, and checks that they did.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select

from app.accounts import approvals, invitations
from app.database import Database
from app.models import AccessChangeRequest, Invitation, Membership, Reviewer, WebSession
from app.review import cases as review_cases
from crypto import Identity
from tests.conftest import CsrfClient
from tests.factories import PASSWORD, Report, Staff, code, review_test_client, send_case
from tests.review.conftest import Installation, audit_count, build_installation, case_state

# The actions of ``POST /cases/<case_id>/<action>``: the URL map has one rule for all.
CASE_ACTIONS = [
    "acknowledge",
    "request-info",
    "resume",
    "priority",
    "assign",
    "route",
    "recuse",
    "close",
    "reopen",
    "reply",
    "note",
    "accept",
    "refuse",
    "transfer",
    "extend",
    "conclude",
    "referral-procuracy",
    "referral-extend",
    "referral-result",
    "referral-return",
    "recovery",
]


@dataclass
class World:
    inst: Installation
    admin: Staff
    alice: Staff
    report: Report
    token: str
    values: dict[str, str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    inst = build_installation(tmp_path_factory.mktemp("csrf"))
    admin = inst.staff("root", "intake", role="admin")
    alice = inst.staff("alice", "intake")
    sent = send_case(inst.reporter(), inst.database)
    with inst.database.session() as db:
        creator = db.get(Reviewer, admin.id)
        assert creator is not None
        token = invitations.create_invitation(
            db, unit_slug="inspection", role="reviewer", created_by=creator
        )
        target = db.get(Reviewer, alice.id)
        assert target is not None
        # A pending access change for the approve/refuse rules to aim at.
        [wanted] = approvals.request_memberships(
            db, approvals.Decider.admin(creator), target, ["intake", "oversight"], "Lý do"
        ).requested
    values = {
        "request_id": str(wanted.id),
        "case_id": sent.case_id,
        "reviewer_id": str(alice.id),
        "token": token,
        "slug": "inspection",
        "unit_id": "1",
        "decision": "approve",
    }
    yield World(inst, admin, alice, sent, token, values)
    inst.database.dispose()


def _urls(world: World, rule: str) -> list[str]:
    """The rule with its variables filled with real ids; ``<action>`` with every action."""
    names = set(re.findall(r"<(?:[a-z]+:)?(\w+)>", rule))
    actions = CASE_ACTIONS if "action" in names else [""]
    return [
        re.sub(
            r"<(?:[a-z]+:)?(\w+)>",
            lambda m, action=action: {**world.values, "action": action}[m.group(1)],
            rule,
        )
        for action in actions
    ]


def _form(world: World) -> dict[str, Any]:
    """Fields that every form of the app would accept: with a token, these would act."""
    return {
        "username": "alice",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "totp": code(world.alice.account.secret),
        "current_password": PASSWORD,
        "new_password": "a brand new passphrase",
        "new_password_confirm": "a brand new passphrase",
        "role": "admin",
        "unit": "inspection",
        "units": ["investigation"],
        "message": "CSRF-MESSAGE",
        "reason": "CSRF-REASON",
        "priority": "urgent",
        "assignee": str(world.admin.id),
        "resolution": "duplicate",
        "note": "CSRF-NOTE",
        "amount": "1.250.000.000",
        "day": "2026-03-05",
        "until": "2026-05-05",
        "result": "prosecuted",
        "agency": "csdt_can_tho",
        "dispatch_number": "125/TTr-NV",
        "dispatch_day": "2026-03-05",
        "recipient": str(Identity.generate().recipient),
    }


def _snapshot(database: Database, case_id: str) -> tuple[Any, ...]:
    with database.read_session() as db:
        reviewers = db.execute(
            select(
                Reviewer.id,
                Reviewer.role,
                Reviewer.active,
                Reviewer.password_hash,
                Reviewer.totp_secret,
                Reviewer.totp_last_step,
                Reviewer.wrapped_private_key,
                Reviewer.failed_logins,
            ).order_by(Reviewer.id)
        ).all()
        memberships = db.execute(
            select(Membership.reviewer_id, Membership.unit_id).order_by(
                Membership.reviewer_id, Membership.unit_id
            )
        ).all()
        invites = db.execute(select(Invitation.id, Invitation.used_at)).all()
        requests = db.execute(
            select(AccessChangeRequest.id, AccessChangeRequest.status).order_by(
                AccessChangeRequest.id
            )
        ).all()
        sessions = db.scalar(
            select(func.count()).select_from(WebSession).where(WebSession.reviewer_id.is_not(None))
        )
    return (
        case_state(database, case_id),
        audit_count(database),
        tuple(reviewers),
        tuple(memberships),
        tuple(invites),
        tuple(requests),
        sessions,
    )


def test_every_case_action_is_covered() -> None:
    """If the view learns a new action, this test (and the CSRF list) must learn it too."""
    assert sorted(review_cases.ACTIONS) == sorted(CASE_ACTIONS)


def test_the_rule_list_is_complete(world: World) -> None:
    rules = {
        rule.rule
        for rule in world.inst.review_app.url_map.iter_rules()
        if "POST" in (rule.methods or ())
    }
    assert rules == set(POST_RULES), "update POST_RULES from review_app.url_map"


# Read from the URL map at collection time would need an app; the list is checked
# against the live map by test_the_rule_list_is_complete, so it cannot go stale.
POST_RULES = [
    "/account/password",
    "/admin/access/<int:request_id>/approve",
    "/admin/access/<int:request_id>/refuse",
    "/admin/access/recovery",
    "/admin/custodians/<int:unit_id>/<int:reviewer_id>/remove",
    "/admin/custodians/request",
    "/admin/keys/fulfil",
    "/admin/notifications/retry",
    "/admin/reviewers/<int:reviewer_id>/email",
    "/admin/units",
    "/admin/units/<slug>",
    "/admin/reviewers/<int:reviewer_id>/deactivate",
    "/admin/reviewers/<int:reviewer_id>/reset-password",
    "/admin/reviewers/<int:reviewer_id>/reset-totp",
    "/admin/reviewers/<int:reviewer_id>/role",
    "/admin/reviewers/<int:reviewer_id>/units",
    "/admin/reviewers/invite",
    "/cases/<case_id>/<action>",
    "/cases/<case_id>/case-file",
    "/cases/<case_id>/identity/open",
    "/cases/<case_id>/identity/request",
    "/cases/<case_id>/identity/requests/<int:request_id>/<decision>",
    "/cases/<case_id>/identity/reseal",
    "/invite/<token>",
    "/login",
    "/login/totp",
    "/logout",
    "/setup/<token>",
]


@pytest.mark.parametrize("who", ["admin", "logged_out"])
@pytest.mark.parametrize("rule", POST_RULES)
def test_post_without_token_is_refused(world: World, rule: str, who: str) -> None:
    client: CsrfClient = (
        world.admin.client if who == "admin" else review_test_client(world.inst.review_app)
    )
    form = _form(world)
    for url in _urls(world, rule):
        before = _snapshot(world.inst.database, world.report.case_id)
        response = client.post(url, data=form)
        assert response.status_code == 400, (url, response.status_code)
        body = response.get_data(as_text=True)
        assert "CSRF" in body or "csrf" in body, body[:500]
        assert _snapshot(world.inst.database, world.report.case_id) == before, url
        # A wrong token (another session's) is refused the same way.
        other = world.alice.client.hidden_fields("/account/password")["csrf_token"]
        forged = client.post(url, data={**form, "csrf_token": other})
        assert forged.status_code == 400, (url, "forged token", forged.status_code)
        assert _snapshot(world.inst.database, world.report.case_id) == before, url
    # The admin is still logged in: /logout without a token did not end the session.
    if who == "admin":
        assert client.get("/admin/reviewers").status_code == 200
        assert client.get(f"/cases/{world.report.case_id}").status_code == 200
