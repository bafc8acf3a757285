"""The two faces are separate applications."""

import pytest
from flask import Flask

from app.factory import create_intake_app
from config import MissingSecretsError, Settings


def test_two_apps_two_secret_keys_two_cookies(intake_app: Flask, review_app: Flask) -> None:
    assert intake_app.secret_key and review_app.secret_key
    assert intake_app.secret_key != review_app.secret_key
    names = {
        app.session_interface.policy.cookie_name  # type: ignore[attr-defined]
        for app in (intake_app, review_app)
    }
    assert names == {"lc_intake", "lc_review"}


def test_intake_has_no_review_routes(intake_app: Flask, review_app: Flask) -> None:
    intake_rules = {rule.endpoint for rule in intake_app.url_map.iter_rules()}
    review_rules = {rule.endpoint for rule in review_app.url_map.iter_rules()}
    assert not any(e.startswith("review.") for e in intake_rules)
    assert not any(e.startswith("intake.") for e in review_rules)


def test_server_refuses_to_start_without_secrets(settings: Settings) -> None:
    # No `database` fixture: nothing was initialised, as on a fresh machine.
    with pytest.raises(MissingSecretsError, match="init"):
        create_intake_app(settings)


def test_csrf_is_enforced(review_app: Flask) -> None:
    @review_app.post("/_t/form")
    def _form() -> str:
        return "accepted"

    client = review_app.test_client()
    response = client.post("/_t/form", data={"x": "1"})
    assert response.status_code == 400
