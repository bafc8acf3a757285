"""Authorization matrix: every rule of ``review_app.url_map`` × every kind of user,
with the expected answer taken from a table keyed by endpoint (:data:`ACCESS`). A new
endpoint without a table entry fails :func:`test_every_endpoint_has_a_policy`, so a
route cannot slip past. Each refusal is checked to leak nothing (no plaintext, no age
ciphertext, no case reference) and to change nothing.

One world, built once for the module (refusals change nothing, and every test checks
that, so sharing it is sound): a report WITH an attachment, sent through the intake,
whose reporter excluded the investigation unit, held by the intake unit, and these users:

=============  ============================================================
holder         reviewer in intake (the holding unit) - reads the case
other_unit     reviewer in inspection
recused        reviewer in intake who recused themselves from this case
excluded       reviewer in intake AND investigation (the unit the reporter excluded)
observer       observer in intake (the steering committee never reads content)
other_admin    admin of inspection (an admin, but not of the holding unit)
logged_out     nobody logged in
=============  ============================================================

A cell whose answer is a refusal, or an allowed GET that records nothing, runs in the
shared world. Allowed requests that act (a POST by someone entitled, the holder opening
the case or its attachment) would change the world: the holder's column is checked
separately (``test_holder_can``), each in a fresh world, so that the matrix is known to
hit real ids, real tokens and working routes; the administrators' actions are tested in
tests/review/test_admin_*.py and tests/accounts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

# The notifications admin page's routes join the review blueprint when imported: import
# it here so the URL map checked is the one every installation serves.
import app.review.notifications  # noqa: F401
from app.accounts import approvals
from app.database import Database
from app.models import CaseKey, Reviewer
from tests.conftest import CsrfClient
from tests.factories import Report, Staff, review_test_client, send_case
from tests.review.conftest import (
    AGE_HEADER,
    ReportFactory,
    StaffFactory,
    audit_count,
    build_installation,
    case_state,
)

# -- who may use each endpoint --------------------------------------------------------------


class Access(Enum):
    PUBLIC = "before login: the login steps, one-time enrolment links, static files"
    ANYONE = "ends whatever session there is"
    STAFF = "any signed-in account"
    DASHBOARD = "observers and administrators (statistics, no content)"
    ADMIN = "administrators"
    CASE = "readers of the case; anyone else gets 404, which says nothing of its existence"
    DESK = "members of the intake unit who handle cases (reviewers, admins): the reception desk"


ACCESS: dict[str, Access] = {
    "static": Access.PUBLIC,
    "favicon": Access.PUBLIC,
    "review.login": Access.PUBLIC,
    "review.login_totp": Access.PUBLIC,
    "review.setup": Access.PUBLIC,
    "review.invite": Access.PUBLIC,
    "review.logout": Access.ANYONE,
    "review.home": Access.STAFF,
    "review.account_password": Access.STAFF,
    "review.inbox": Access.STAFF,
    "review.inbox_search": Access.STAFF,
    "review.inbox_bulk": Access.STAFF,
    "review.dashboard": Access.DASHBOARD,
    "review.dashboard_csv": Access.DASHBOARD,
    "review.desk_form": Access.DESK,
    "review.desk_submit": Access.DESK,
    "review.dashboard_outcomes_csv": Access.DASHBOARD,
    "review.case_view": Access.CASE,
    "review.case_attachment": Access.CASE,
    "review.case_action": Access.CASE,
    "review.case_file": Access.CASE,
    "review.identity_open": Access.CASE,
    "review.identity_request": Access.CASE,
    "review.identity_decide": Access.CASE,
    "review.identity_reseal": Access.CASE,
    "review.notice_docx": Access.CASE,
    "review.admin_access": Access.ADMIN,
    "review.admin_access_approve": Access.ADMIN,
    "review.admin_access_refuse": Access.ADMIN,
    "review.admin_access_recovery": Access.ADMIN,
    "review.admin_audit": Access.ADMIN,
    "review.admin_keys": Access.ADMIN,
    "review.admin_keys_fulfil": Access.ADMIN,
    "review.admin_notifications": Access.ADMIN,
    "review.admin_notifications_retry": Access.ADMIN,
    "review.admin_reviewers": Access.ADMIN,
    "review.admin_invite": Access.ADMIN,
    "review.admin_deactivate": Access.ADMIN,
    "review.admin_reset_password": Access.ADMIN,
    "review.admin_reset_totp": Access.ADMIN,
    "review.admin_set_role": Access.ADMIN,
    "review.admin_set_units": Access.ADMIN,
    "review.admin_set_email": Access.ADMIN,
    "review.admin_units": Access.ADMIN,
    "review.admin_units_add": Access.ADMIN,
    "review.admin_units_update": Access.ADMIN,
    "review.admin_custodians": Access.ADMIN,
    "review.admin_custodians_request": Access.ADMIN,
    "review.admin_custodians_remove": Access.ADMIN,
}

# What a visitor who is not logged in gets from a GET of each public page (with a token
# that names no invitation, and a real static file).
PUBLIC_GET: dict[str, int | str] = {
    "static": 200,
    "favicon": 200,
    "review.login": 200,
    "review.login_totp": "login",  # no password step yet: back to the first step
    "review.setup": 404,
    "review.invite": 404,
}

# The actions of ``POST /cases/<case_id>/<action>`` (one rule for all), with form data
# that would act if the user were allowed to.
CASE_ACTIONS: dict[str, dict[str, str]] = {
    "acknowledge": {},
    "request-info": {"message": "MATRIX-QUESTION"},
    "resume": {},
    "priority": {"priority": "urgent"},
    "assign": {"assignee": "{holder}"},
    "route": {"unit": "inspection", "reason": "MATRIX-REASON", "confirm": "yes"},
    "recuse": {"confirm": "yes"},
    "close": {"resolution": "duplicate", "message": "MATRIX-CLOSING", "confirm": "yes"},
    "reopen": {},
    "reply": {"message": "MATRIX-REPLY"},
    "note": {"note": "MATRIX-NOTE"},
    "accept": {"day": "", "decision_number": "12/QĐ-TTr", "content": "MATRIX-CONTENT"},
    "refuse": {"reason": "MATRIX-REFUSAL"},
    "transfer": {"authority": "MATRIX-AUTHORITY", "reason": "MATRIX-REASON"},
    "extend": {"reason": "MATRIX-EXTENSION", "criteria": "several_places"},
    "conclude": {"day": "", "conclusion_number": "9/KL-TTr", "outcome": "MATRIX-OUTCOME"},
    "link": {"other_reference": "CT-2026-99999", "kind": "related", "reason": "MATRIX-LINK"},
    "unlink": {"link": "1", "reason": "MATRIX-UNLINK"},
    "answer-protection": {"request": "1", "message": "MATRIX-PROTECTION-ANSWER"},
    "referral-procuracy": {"day": "2026-03-05", "confirm": "yes"},
    "referral-extend": {"until": "2026-05-05"},
    "referral-result": {"result": "prosecuted", "day": "2026-03-05", "confirm": "yes"},
    "referral-return": {
        "unit": "inspection",
        "reason": "MATRIX-REASON",
        "day": "2026-03-05",
        "confirm": "yes",
    },
    "recovery": {"amount": "1.250.000.000", "note": "MATRIX-LEDGER", "confirm": "yes"},
}

# Form data for the other POST routes: enough that an allowed request would act.
ADMIN_FORM = {
    "role": "admin",
    "units": ["investigation"],
    "email": "matrix@example.org",
    "unit": "inspection",
    "slug": "matrix-unit",
    "name_vi": "Đơn vị Ủy quyền",
    "name_en": "Matrix unit",
    "kind": "inspection",
    "current_password": "MATRIX-PASSWORD",
    "new_password": "MATRIX-NEW-PASSWORD đủ dài",
    "new_password_confirm": "MATRIX-NEW-PASSWORD đủ dài",
}


@dataclass(frozen=True)
class User:
    logged_in: bool
    role: str | None = None
    reads_case: bool = False
    desk_officer: bool = False  # a reviewer or admin in the intake unit


USERS: dict[str, User] = {
    "holder": User(True, "reviewer", reads_case=True, desk_officer=True),
    "other_unit": User(True, "reviewer"),
    "recused": User(True, "reviewer", desk_officer=True),
    "excluded": User(True, "reviewer", desk_officer=True),
    "observer": User(True, "observer"),
    "other_admin": User(True, "admin"),
    "logged_out": User(False),
}

# An allowed GET answers 200, except these.
ALLOWED_GET: dict[str, int] = {
    "review.home": 302,  # to the user's start page (the inbox, or the dashboard)
}
# Allowed GETs that are themselves recorded in the audit log (who looked at statistics;
# who listed the inbox, once per login session).
RECORDED_VIEWS = {
    "review.dashboard",
    "review.dashboard_csv",
    "review.dashboard_outcomes_csv",
    "review.inbox",
}

LOGIN = "login"  # a redirect to /login
ACTS = "acts"  # allowed, and the request would change something: not run in the world


def expected(endpoint: str, method: str, user: User) -> int | str | None:
    """The answer ``user`` gets, :data:`ACTS`, or None where the matrix does not apply
    (a signed-in user on a page made for before login)."""
    access = ACCESS[endpoint]
    if access is Access.PUBLIC:
        if user.logged_in or method != "GET":
            return None  # the login and enrolment tests cover these
        return PUBLIC_GET[endpoint]
    if not user.logged_in:
        return LOGIN
    if access is Access.ANYONE:
        return ACTS
    if access is Access.STAFF:
        return ALLOWED_GET.get(endpoint, 200) if method == "GET" else ACTS
    if access is Access.CASE:
        return ACTS if user.reads_case else 404
    if access is Access.DESK:
        if not user.desk_officer:
            return 403
        return 200 if method == "GET" else ACTS
    allowed = ("admin",) if access is Access.ADMIN else ("observer", "admin")
    if user.role not in allowed:
        return 403
    return 200 if method == "GET" else ACTS


# -- the world ------------------------------------------------------------------------------


@dataclass
class World:
    app: Flask
    database: Database
    report: Report
    holder: Staff
    clients: dict[str, CsrfClient]
    values: dict[str, str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    inst = build_installation(tmp_path_factory.mktemp("matrix"))
    database = inst.database
    make = inst.staff

    holder = make("holder", "intake")
    users = {
        "other_unit": make("other-unit", "inspection"),
        "recused": make("recused", "intake"),
        "excluded": make("excluded", "intake", "investigation"),
        "observer": make("observer", "intake", role="observer"),
        "other_admin": make("other-admin", "inspection", role="admin"),
    }
    sent = send_case(inst.reporter(), database, attachment=True, excluded=["investigation"])

    # The recused reviewer could read the case, and gave that up.
    assert users["recused"].client.get(f"/cases/{sent.case_id}").status_code == 200
    recusal = users["recused"].post(f"/cases/{sent.case_id}/recuse", {"confirm": "yes"})
    assert recusal.status_code == 303 and recusal.headers["Location"].endswith("/inbox")

    # The keys agree with the rule: only the holder's key is among the readers.
    with database.read_session() as db:
        wrap_lines = "\n".join(
            db.scalars(select(CaseKey.recipients).where(CaseKey.case_id == sent.case_id))
        )
    assert holder.account.public_key in wrap_lines
    for staff in users.values():
        assert staff.account.public_key not in wrap_lines, staff.username

    # A pending access change, so the approve and refuse rules name a real request.
    with database.session() as db:
        admin = db.get(Reviewer, users["other_admin"].id)
        target = db.get(Reviewer, users["other_unit"].id)
        assert admin is not None and target is not None
        [wanted] = approvals.request_memberships(
            db, approvals.Decider.admin(admin), target, ["oversight"], "Lý do"
        ).requested
        request_id = wanted.id

    clients = {name: staff.client for name, staff in users.items()}
    clients["holder"] = holder.client
    clients["logged_out"] = review_test_client(inst.review_app)
    values = {
        "case_id": sent.case_id,
        "blob_id": sent.attachment_ids[0],
        "request_id": str(request_id),
        "reviewer_id": str(users["other_unit"].id),
        "slug": "inspection",
        "token": "khong-co-loi-moi-nao",
        "filename": "css/site.css",
        "notice_id": "1",
        "decision": "approve",
        "unit_id": "1",
    }
    yield World(inst.review_app, database, sent, holder, clients, values)
    database.dispose()


def _requests(world: World, endpoint: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, form data) for every rule and method of ``endpoint``, its variables
    filled with real ids; ``<action>`` with every case action."""
    out = []
    for rule in world.app.url_map.iter_rules(endpoint):
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            names = set(re.findall(r"<(?:[a-z]+:)?(\w+)>", rule.rule))
            actions = list(CASE_ACTIONS) if "action" in names else [""]
            for action in actions:
                values = {**world.values, "action": action}
                path = re.sub(
                    r"<(?:[a-z]+:)?(\w+)>", lambda m, values=values: values[m.group(1)], rule.rule
                )
                data: dict[str, Any] = {}
                if method == "POST":
                    source = CASE_ACTIONS[action] if action else ADMIN_FORM
                    data = {
                        k: v.format(holder=world.holder.id) if isinstance(v, str) else v
                        for k, v in source.items()
                    }
                out.append((method, path, data))
    return out


def _request(client: CsrfClient, method: str, path: str, data: dict[str, Any]) -> Any:
    if method == "GET":
        return client.get(path)
    # A valid CSRF token from a page this user can open: the refusal must come from
    # authorization, not from the CSRF check.
    logged_in = client.get("/account/password").status_code == 200
    token_page = "/account/password" if logged_in else "/login"
    return client.submit(token_page, data, action=path)


def _assert_no_leak(response: Any, sent: Report, *, reference_allowed: bool = False) -> None:
    body = response.get_data().decode("utf-8", errors="replace")  # the icon is binary
    where = response.headers.get("Location", "") + body
    assert AGE_HEADER not in where
    for secret in (sent.canary, sent.attachment_canary, sent.attachment_name, sent.receipt):
        assert secret and secret not in where, f"{secret!r} leaked"
    for internal in ("MATRIX-", "AGE-SECRET-KEY"):
        assert internal not in where
    if not reference_allowed:
        assert sent.reference not in where, "the case reference leaked"


def test_every_endpoint_has_a_policy(world: World) -> None:
    """A new route must say who may use it before the matrix lets it pass."""
    endpoints = {rule.endpoint for rule in world.app.url_map.iter_rules()}
    assert endpoints - set(ACCESS) == set(), "add the new endpoints to ACCESS"
    assert set(ACCESS) - endpoints == set(), "ACCESS names endpoints that no longer exist"
    assert set(PUBLIC_GET) == {e for e, a in ACCESS.items() if a is Access.PUBLIC}


def test_the_matrix_runs_refusals_for_every_protected_endpoint() -> None:
    """Positive control for the table: every endpoint that needs a login refuses someone
    in the world, so each has at least one cell that is really requested."""
    for endpoint, access in ACCESS.items():
        answers = {expected(endpoint, "GET", u) for u in USERS.values()} | {
            expected(endpoint, "POST", u) for u in USERS.values()
        }
        if access is not Access.PUBLIC:
            assert answers & {LOGIN, 403, 404}, endpoint


@pytest.mark.parametrize("endpoint", sorted(ACCESS))
@pytest.mark.parametrize("user", list(USERS))
def test_matrix(world: World, user: str, endpoint: str) -> None:
    sent = world.report
    client = world.clients[user]
    ran = 0
    for method, path, data in _requests(world, endpoint):
        answer = expected(endpoint, method, USERS[user])
        if answer is None or answer == ACTS:
            continue
        if ACCESS[endpoint] is Access.CASE and USERS[user].reads_case:
            continue  # reading is recorded: test_holder_can, in a world of its own
        before_state = case_state(world.database, sent.case_id)
        before_audit = audit_count(world.database)

        response = _request(client, method, path, data)

        where = f"{user} {method} {path}"
        if answer == LOGIN:
            assert response.status_code in (302, 303), (where, response.status_code)
            assert "/login" in response.headers["Location"], where
        else:
            assert response.status_code == answer, (where, response.get_data(as_text=True)[:1500])
        if endpoint == "review.inbox" and answer == 200 and not USERS[user].reads_case:
            assert sent.case_id not in response.get_data(as_text=True)  # not listed
        # Admins browse the audit log and pending grants, which name cases by reference
        # (metadata for staff, never content): the reference may show there, nothing else.
        admin_page = ACCESS[endpoint] is Access.ADMIN and answer == 200
        reader = USERS[user].reads_case and endpoint == "review.inbox"
        _assert_no_leak(response, sent, reference_allowed=admin_page or reader)
        assert case_state(world.database, sent.case_id) == before_state, where
        if answer in (LOGIN, 403, 404) or endpoint not in RECORDED_VIEWS:
            assert audit_count(world.database) == before_audit, where
        ran += 1
    runnable = [expected(endpoint, m, USERS[user]) for m, _p, _d in _requests(world, endpoint)]
    if ran == 0:
        # Nothing to request: only cells that act or do not apply.
        assert set(runnable) <= {ACTS, None} or USERS[user].reads_case, runnable


# -- the holder's column: the same requests do work for a reader ----------------------------

HOLDER_EXPECTED: dict[str, tuple[int, bool]] = {
    # action: (status, whether something is recorded)
    "acknowledge": (303, True),
    "request-info": (303, True),
    "resume": (303, False),  # a new case is not waiting for information: refused, nothing done
    "priority": (303, True),
    "assign": (303, True),
    "route": (303, True),
    "recuse": (303, True),
    "close": (303, True),
    "reopen": (403, False),  # admins only
    "reply": (303, True),
    "note": (303, True),
    # The world's case is anonymous information (art. 25): no statutory step applies.
    "accept": (303, False),
    "refuse": (303, False),
    "transfer": (303, False),
    "extend": (303, False),
    "conclude": (303, False),
    # The world has one case: there is nothing to link it with, and no link to remove
    # (tests/review/test_case_links_page.py links two cases).
    "link": (303, False),
    "unlink": (303, False),
    # The world's case has no protection request: refused, nothing done (the answer
    # itself: tests/review/test_protection_requests.py).
    "answer-protection": (303, False),
    # The world's case was never referred: the referral steps are refused, nothing done.
    "referral-procuracy": (303, False),
    "referral-extend": (303, False),
    "referral-result": (303, False),
    "referral-return": (303, False),
    "recovery": (303, True),  # the ledger is kept at any time
}


@pytest.fixture
def holder_world(staff: StaffFactory, report: ReportFactory) -> tuple[Staff, Report]:
    holder = staff("holder", "intake")
    return holder, report(attachment=True, excluded=["investigation"])


HOLDER_REQUESTS = [
    ("GET", "/inbox"),
    ("GET", "/cases/{case}"),
    ("GET", "/cases/{case}/attachments/{blob}"),
    *(("POST", f"/cases/{{case}}/{action}") for action in CASE_ACTIONS),
]


@pytest.mark.parametrize(("method", "route"), HOLDER_REQUESTS, ids=" ".join)
def test_holder_can(
    holder_world: tuple[Staff, Report], database: Database, method: str, route: str
) -> None:
    holder, sent = holder_world
    before_state = case_state(database, sent.case_id)
    before_audit = audit_count(database)
    path = route.format(case=sent.case_id, blob=sent.attachment_ids[0])
    action = route.rsplit("/", 1)[1]
    data = {k: v.format(holder=holder.id) for k, v in CASE_ACTIONS.get(action, {}).items()}
    response = _request(holder.client, method, path, data)
    body = response.get_data()
    assert AGE_HEADER.encode() not in body
    if route == "/inbox":
        assert response.status_code == 200 and sent.reference.encode() in body
    elif route == "/cases/{case}":
        assert response.status_code == 200 and sent.canary.encode() in body
        assert audit_count(database) == before_audit + 1  # case.viewed
    elif route.endswith("{blob}"):
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert response.headers["Content-Type"] == "application/octet-stream"
        assert sent.attachment_canary is not None
        assert sent.attachment_canary.encode() in body
    else:
        status, recorded = HOLDER_EXPECTED[action]
        assert response.status_code == status, body[:1500]
        changed = case_state(database, sent.case_id) != before_state
        assert (audit_count(database) > before_audit) == recorded
        assert changed == recorded
