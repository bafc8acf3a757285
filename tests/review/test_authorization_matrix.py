"""Authorization matrix: every review route × every kind of user who may not read the
case, asserting the refusal and that nothing leaks (no plaintext, no age ciphertext, no
case reference) and nothing changes.

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

The holder's column is checked separately (``test_holder_*``), each in a fresh world,
so that the matrix is known to hit real ids, real tokens and working routes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from app.database import Database
from app.models import CaseKey
from tests.conftest import CsrfClient
from tests.review.conftest import (
    AGE_HEADER,
    Report,
    ReportFactory,
    Staff,
    StaffFactory,
    audit_count,
    build_installation,
    case_state,
    review_test_client,
    send_case,
)

# -- the routes ---------------------------------------------------------------------------

CASE_ACTIONS: dict[str, dict[str, str]] = {
    "acknowledge": {},
    "request-info": {"message": "MATRIX-QUESTION"},
    "resume": {},
    "priority": {"priority": "urgent"},
    "assign": {"assignee": "{holder}"},
    "route": {"unit": "inspection", "reason": "MATRIX-REASON"},
    "recuse": {},
    "close": {"resolution": "duplicate", "message": "MATRIX-CLOSING"},
    "reopen": {},
    "reply": {"message": "MATRIX-REPLY"},
    "note": {"note": "MATRIX-NOTE"},
}


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # with {case} and {blob}
    data: tuple[tuple[str, str], ...] = ()

    @property
    def kind(self) -> str:
        if self.path.startswith("/admin/"):
            return "admin"
        if self.path == "/inbox":
            return "inbox"
        return "case"

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ROUTES = [
    Route("GET", "/inbox"),
    Route("GET", "/cases/{case}"),
    Route("GET", "/cases/{case}/attachments/{blob}"),
    *(
        Route("POST", f"/cases/{{case}}/{action}", tuple(data.items()))
        for action, data in CASE_ACTIONS.items()
    ),
    Route("GET", "/admin/reviewers"),
    Route("GET", "/admin/keys"),
    Route("GET", "/admin/audit"),
    Route("POST", "/admin/keys/fulfil"),
]

# -- what each user gets --------------------------------------------------------------------

LOGIN = "login"  # a redirect to /login
#                inbox  case   admin GET  admin POST
EXPECTED: dict[str, tuple[int | str, int, int, int]] = {
    "other_unit": (200, 404, 403, 403),
    "recused": (200, 404, 403, 403),
    "excluded": (200, 404, 403, 403),
    "observer": (200, 404, 403, 403),
    "other_admin": (200, 404, 200, 303),
    "logged_out": (LOGIN, LOGIN, LOGIN, LOGIN),  # type: ignore[dict-item]
}
USERS = list(EXPECTED)


def expected_status(user: str, route: Route) -> int | str:
    inbox, case, admin_get, admin_post = EXPECTED[user]
    if route.kind == "inbox":
        return inbox
    if route.kind == "case":
        return case
    return admin_get if route.method == "GET" else admin_post


# -- the world ------------------------------------------------------------------------------


@dataclass
class World:
    database: Database
    report: Report
    holder: Staff
    clients: dict[str, CsrfClient]
    ids: dict[str, int]


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
    recusal = users["recused"].post(f"/cases/{sent.case_id}/recuse")
    assert recusal.status_code == 303 and recusal.headers["Location"].endswith("/inbox")

    # The keys agree with the rule: only the holder's key is among the readers.
    with database.read_session() as db:
        wrap_lines = "\n".join(
            db.scalars(select(CaseKey.recipients).where(CaseKey.case_id == sent.case_id))
        )
    assert holder.account.public_key in wrap_lines
    for staff in users.values():
        assert staff.account.public_key not in wrap_lines, staff.username

    clients = {name: staff.client for name, staff in users.items()}
    clients["logged_out"] = review_test_client(inst.review_app)
    ids = {name: staff.id for name, staff in users.items()}
    yield World(database, sent, holder, clients, ids)
    database.dispose()


def _path(route: Route, sent: Report) -> str:
    return route.path.format(case=sent.case_id, blob=sent.attachment_ids[0])


def _data(route: Route, holder_id: int) -> dict[str, str]:
    return {k: v.format(holder=holder_id) for k, v in route.data}


def _request(client: CsrfClient, route: Route, path: str, data: dict[str, str]) -> Any:
    if route.method == "GET":
        return client.get(path)
    # A valid CSRF token from a page this user can open: the refusal must come from
    # authorization, not from the CSRF check.
    logged_in = client.get("/account/password").status_code == 200
    token_page = "/account/password" if logged_in else "/login"
    return client.submit(token_page, data, action=path)


def _assert_no_leak(response: Any, sent: Report, *, reference_allowed: bool = False) -> None:
    body = response.get_data(as_text=True)
    where = response.headers.get("Location", "") + body
    assert AGE_HEADER not in where
    for secret in (sent.canary, sent.attachment_canary, sent.attachment_name, sent.receipt):
        assert secret and secret not in where, f"{secret!r} leaked"
    for internal in ("MATRIX-", "AGE-SECRET-KEY"):
        assert internal not in where
    if not reference_allowed:
        assert sent.reference not in where, "the case reference leaked"


@pytest.mark.parametrize("route", ROUTES, ids=str)
@pytest.mark.parametrize("user", USERS)
def test_refused(world: World, user: str, route: Route) -> None:
    sent = world.report
    client = world.clients[user]
    path = _path(route, sent)
    before_state = case_state(world.database, sent.case_id)
    before_audit = audit_count(world.database)

    response = _request(client, route, path, _data(route, world.holder.id))

    expected = expected_status(user, route)
    if expected == LOGIN:
        assert response.status_code in (302, 303), response.status_code
        assert "/login" in response.headers["Location"]
    else:
        assert response.status_code == expected, response.get_data(as_text=True)[:1500]
    if route.kind == "inbox" and expected == 200:
        html = response.get_data(as_text=True)
        assert sent.case_id not in html  # not listed
    # Admins browse the audit log and pending grants, which name cases by reference
    # (metadata for staff, never content): the reference may show there, nothing else.
    _assert_no_leak(response, sent, reference_allowed=route.kind == "admin" and expected == 200)
    assert case_state(world.database, sent.case_id) == before_state
    if route.kind != "admin" or user != "other_admin":
        assert audit_count(world.database) == before_audit


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
}


@pytest.fixture
def holder_world(staff: StaffFactory, report: ReportFactory) -> tuple[Staff, Report]:
    holder = staff("holder", "intake")
    return holder, report(attachment=True, excluded=["investigation"])


@pytest.mark.parametrize("route", [r for r in ROUTES if r.kind != "admin"], ids=str)
def test_holder_can(holder_world: tuple[Staff, Report], database: Database, route: Route) -> None:
    holder, sent = holder_world
    before_state = case_state(database, sent.case_id)
    before_audit = audit_count(database)
    response = _request(holder.client, route, _path(route, sent), _data(route, holder.id))
    body = response.get_data()
    assert AGE_HEADER.encode() not in body
    if route.path == "/inbox":
        assert response.status_code == 200 and sent.reference.encode() in body
    elif route.path == "/cases/{case}":
        assert response.status_code == 200 and sent.canary.encode() in body
        assert audit_count(database) == before_audit + 1  # case.viewed
    elif route.path.endswith("{blob}"):
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert response.headers["Content-Type"] == "application/octet-stream"
        assert sent.attachment_canary is not None
        assert sent.attachment_canary.encode() in body
    else:
        status, recorded = HOLDER_EXPECTED[route.path.rsplit("/", 1)[1]]
        assert response.status_code == status, body[:1500]
        changed = case_state(database, sent.case_id) != before_state
        assert (audit_count(database) > before_audit) == recorded
        assert changed == recorded


@pytest.mark.parametrize("route", [r for r in ROUTES if r.kind == "admin"], ids=str)
def test_holder_is_not_an_admin(
    holder_world: tuple[Staff, Report], database: Database, route: Route
) -> None:
    holder, sent = holder_world
    before_audit = audit_count(database)
    response = _request(holder.client, route, _path(route, sent), {})
    assert response.status_code == 403
    _assert_no_leak(response, sent)
    assert audit_count(database) == before_audit
