"""The OpenAPI document says what the server really does.

- it is a valid OpenAPI 3.1 document, and its paths are exactly the routes under
  /api/v1 (with their methods);
- the patterns of tickets, recipients, receipts and challenges accept what the server
  issues and reject what it refuses (checked against the server's own parser);
- every POST documents 413 and 429, and the bodies the server sends with them match
  the documented schema.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from flask import Flask
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_spec

from app.cases.pow import solve
from app.database import Database
from app.factory import create_intake_app
from app.intake.api import OPENAPI_FILE
from crypto import Identity, KeyFormatError, Recipient
from tests.conftest import CsrfClient
from tests.factories import make_reviewer
from tests.reliability.harness import api_ticket

SPEC: dict[str, Any] = json.loads(OPENAPI_FILE.read_text("utf-8"))
API_PREFIX = "/api/v1"


def _schema(name: str) -> OAS31Validator:
    schema = {**SPEC["components"]["schemas"][name], "components": SPEC["components"]}
    return OAS31Validator(schema)


def _valid(name: str, value: object) -> bool:
    return _schema(name).is_valid(value)


def test_document_is_valid_openapi_3_1() -> None:
    validate_spec(SPEC)


def test_every_api_route_is_documented_with_its_methods(intake_app: Flask) -> None:
    served: dict[str, set[str]] = {}
    for rule in intake_app.url_map.iter_rules():
        if rule.rule.startswith(API_PREFIX + "/") and rule.rule != API_PREFIX + "/openapi.json":
            path = rule.rule.removeprefix(API_PREFIX)
            served.setdefault(path, set()).update(
                m.lower() for m in (rule.methods or ()) if m not in ("HEAD", "OPTIONS")
            )
    documented = {path: set(ops) for path, ops in SPEC["paths"].items()}
    assert served == documented


# The operations that spend a rate budget (app.intake.flood); the GETs only read, and a
# report spends none because its single-use ticket already paid.
BUDGETED = {("/tickets", "post"), ("/followup/open", "post"), ("/followup/messages", "post")}


def test_every_post_documents_413_and_every_budget_429() -> None:
    for path, operations in SPEC["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            if method == "post":
                assert {"400", "413"} <= codes, (path, method)
            assert ("429" in codes) == ((path, method) in BUDGETED), (path, method)


def test_recipient_pattern_accepts_what_the_server_issues(
    intake_client: CsrfClient, database: Database
) -> None:
    make_reviewer(database, "intake")
    info = intake_client.get("/api/v1/submission").get_json()
    issued = [*info["recipients"], info["recovery_recipient"]]
    issued += [str(Identity.generate().recipient) for _ in range(50)]
    for recipient in issued:
        assert _valid("Recipient", recipient), recipient
        assert _valid("Recipient", recipient.upper())  # Bech32 is case-insensitive
        Recipient.parse(recipient.upper())


def _recipient_variants() -> list[str]:
    good = str(Identity.generate().recipient)
    return [
        "",
        good[:-1],
        good + "q",
        "age2" + good[4:],
        good[:10] + good[10:].upper(),  # mixed case
        good[:20] + "b" + good[21:],  # not a Bech32 character
        good[:20] + "1" + good[21:],
        good[:20] + "o" + good[21:],
        str(Identity.generate()),  # a secret key, never a recipient
        "age1" + "q" * 58 + "\n",
    ]


# Ids by position: the values are fresh keys, and parallel workers must collect the same tests.
@pytest.mark.parametrize("refused", _recipient_variants(), ids=lambda _: "variant")
def test_recipient_pattern_rejects_what_the_server_refuses(refused: str) -> None:
    assert not _valid("Recipient", refused)
    if refused.endswith("\n"):
        return  # the pattern is stricter than the parser, which strips whitespace
    with pytest.raises(KeyFormatError):
        Recipient.parse(refused)


def test_ticket_receipt_and_challenge_patterns_accept_what_the_server_issues(
    intake_client: CsrfClient, database: Database
) -> None:
    make_reviewer(database, "intake")
    token = intake_client.csrf_token("/report")
    for _ in range(5):
        info, ticket = api_ticket(intake_client, token)
        assert _valid("Challenge", info["pow"]["challenge"])
        assert _valid("PowChallenge", info["pow"])
        assert _valid("Ticket", ticket["ticket"]), ticket["ticket"]
        assert _valid("Receipt", ticket["receipt"])
        assert _valid("Recipient", ticket["reporter_recipient"])


@pytest.mark.parametrize(
    "refused", ["", "a" * 42, "a" * 44, "a" * 42 + "=", "a" * 42 + "+", "a" * 42 + "/"]
)
def test_ticket_pattern_rejects_other_shapes(
    refused: str, intake_client: CsrfClient, database: Database
) -> None:
    assert not _valid("Ticket", refused)
    token = intake_client.csrf_token("/report")
    response = intake_client.post(
        "/api/v1/reports",
        data={
            "ticket": refused,
            "category": "waste",
            "case_recipient": str(Identity.generate().recipient),
            "staff_recipient": str(Identity.generate().recipient),
            "report": (io.BytesIO(b"x"), "report.age"),
            "case_key_wrap": (io.BytesIO(b"x"), "c.age"),
            "staff_key_wrap": (io.BytesIO(b"x"), "s.age"),
        },
        content_type="multipart/form-data",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 400


def _error_response_schema(name: str) -> OAS31Validator:
    response = SPEC["components"]["responses"][name]
    schema = response["content"]["application/json"]["schema"]
    return OAS31Validator({**schema, "components": SPEC["components"]})


def test_413_and_429_bodies_match_the_document(env: dict[str, str], database: Database) -> None:
    from config import load_settings

    tight = load_settings(
        {**env, "LIEMCHINH_MAX_FILE_BYTES": "2048", "LIEMCHINH_INTAKE_RATE_LIMIT": "3 per hour"}
    )
    app = create_intake_app(tight, database)
    app.testing = True
    app.test_client_class = CsrfClient
    client = app.test_client()
    assert isinstance(client, CsrfClient)
    token = client.csrf_token("/report")
    too_large = client.post(
        "/api/v1/followup/messages",
        data={"message": (io.BytesIO(b"x" * 200_000), "message.age")},
        content_type="multipart/form-data",
        headers={"X-CSRFToken": token},
    )
    assert too_large.status_code == 413
    _error_response_schema("TooLarge").validate(too_large.get_json())
    # Spend the budget the way a browser does (whichever requests it charges).
    busy = None
    for _ in range(10):
        info = client.get("/api/v1/submission")
        if info.status_code == 429:
            busy = info
            break
        pow_ = info.get_json()["pow"]
        ticket = client.post(
            "/api/v1/tickets",
            json={
                "pow_challenge": pow_["challenge"],
                "pow_nonce": solve(pow_["challenge"], pow_["difficulty"]),
            },
            headers={"X-CSRFToken": token},
        )
        if ticket.status_code == 429:
            busy = ticket
            break
    assert busy is not None
    _error_response_schema("Busy").validate(busy.get_json())
