"""A re-sent report form (a reload of the receipt page) is not stored a second time."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from app.database import Database
from app.models import Case, WebSession
from tests.conftest import CsrfClient
from tests.factories import ReviewerKeys, receipt_from, report_answers

ALREADY_SENT = "không được lưu lần nữa"  # "... It was not stored again."


def _cases(database: Database) -> int:
    with database.read_session() as db:
        return int(db.scalar(select(func.count()).select_from(Case)) or 0)


def _post(client: CsrfClient, tokens: dict[str, str], **overrides: Any) -> Any:
    return client.post("/report", data={**report_answers(), **tokens, **overrides})


def test_resending_the_same_form_stores_nothing_more(
    intake_client: CsrfClient, database: Database, intake_reviewer: ReviewerKeys
) -> None:
    tokens = intake_client.hidden_fields("/report")
    first = _post(intake_client, tokens)
    assert first.status_code == 200
    receipt_from(first)
    again = _post(intake_client, tokens)  # what a browser sends on reload
    assert again.status_code == 409
    assert ALREADY_SENT in again.get_data(as_text=True)
    assert _cases(database) == 1


def test_two_forms_open_in_one_session_each_submit_once(
    intake_client: CsrfClient, database: Database, intake_reviewer: ReviewerKeys
) -> None:
    first_form = intake_client.hidden_fields("/report")
    second_form = intake_client.hidden_fields("/report")
    assert first_form["form_nonce"] != second_form["form_nonce"]
    assert _post(intake_client, second_form).status_code == 200
    assert _post(intake_client, first_form).status_code == 200
    assert _post(intake_client, first_form).status_code == 409
    assert _cases(database) == 2


def test_a_nonce_from_another_session_is_refused(
    intake_app: Flask, database: Database, intake_reviewer: ReviewerKeys
) -> None:
    intake_app.test_client_class = CsrfClient
    alice, mallory = intake_app.test_client(), intake_app.test_client()
    assert isinstance(alice, CsrfClient) and isinstance(mallory, CsrfClient)
    stolen = alice.hidden_fields("/report")["form_nonce"]
    tokens = {**mallory.hidden_fields("/report"), "form_nonce": stolen}
    assert _post(mallory, tokens).status_code == 409
    assert _cases(database) == 0


def test_a_forged_or_missing_nonce_is_refused(
    intake_client: CsrfClient, database: Database, intake_reviewer: ReviewerKeys
) -> None:
    tokens = intake_client.hidden_fields("/report")
    nonce = tokens["form_nonce"]
    forged = nonce[:-2] + ("AA" if nonce[-2:] != "AA" else "BB")
    for bad in (forged, "", "not base64 at all!", nonce[:10]):
        assert _post(intake_client, {**tokens, "form_nonce": bad}).status_code == 409
    assert _cases(database) == 0
    # Positive control: the genuine nonce of that same form still works.
    assert _post(intake_client, tokens).status_code == 200


def test_showing_the_form_again_writes_nothing(
    intake_client: CsrfClient, database: Database
) -> None:
    intake_client.get("/report")  # the first visit makes the session (and its CSRF secret)

    def stored() -> list[bytes]:
        with database.read_session() as db:
            return [bytes(p) for p in db.scalars(select(WebSession.payload))]

    before = stored()
    assert len(before) == 1
    for _ in range(3):
        assert intake_client.get("/report").status_code == 200
    assert stored() == before
