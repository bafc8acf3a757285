"""`flask --app wsgi:review_app setup-link` and `reviewers add`."""

from typing import Any

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from app.database import Database
from app.models import Invitation, Reviewer
from config import Settings
from tests.factories import make_account


@pytest.fixture
def runner(review_app: Flask) -> Any:
    return review_app.test_cli_runner()


def test_setup_link_prints_a_url_and_refuses_when_an_admin_exists(
    runner: Any, database: Database, settings: Settings
) -> None:
    result = runner.invoke(args=["setup-link"])
    assert result.exit_code == 0, result.output
    url = result.stdout.strip()
    assert url.startswith(f"{settings.review_url}/setup/")
    with database.read_session() as db:
        assert len(db.scalars(select(Invitation)).all()) == 1
    make_account(database, settings, "root", role="admin")
    refused = runner.invoke(args=["setup-link"])
    assert refused.exit_code == 1
    assert "error:" in refused.stderr and "administrator" in refused.stderr
    with database.read_session() as db:
        assert len(db.scalars(select(Invitation)).all()) == 1


def test_reviewers_add_prints_the_otpauth_uri(runner: Any, database: Database) -> None:
    result = runner.invoke(
        args=[
            "reviewers",
            "add",
            "--username",
            "Lan.Nguyen",
            "--unit",
            "inspection",
            "--role",
            "observer",
            "--password-stdin",
        ],
        input="correct horse battery staple\n",
    )
    assert result.exit_code == 0, result.output
    uri = result.stdout.strip()
    assert uri.startswith("otpauth://totp/") and "lan.nguyen" in uri
    totp = pyotp.parse_uri(uri)
    assert totp.now().isdigit()
    with database.read_session() as db:
        reviewer = db.scalars(select(Reviewer)).one()
        assert reviewer.username == "lan.nguyen" and reviewer.role == "observer"
        assert [m.unit.slug for m in reviewer.memberships] == ["inspection"]
    listed = runner.invoke(args=["reviewers", "list"])
    assert "lan.nguyen\tobserver\tinspection\tactive" in listed.stdout


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--username", "ab", "--unit", "intake"], "correct horse battery staple\n", "username"),
        (["--username", "ana", "--unit", "nowhere"], "correct horse battery staple\n", "unit"),
        (["--username", "ana", "--unit", "intake"], "matkhau123456\n", "common"),
        (["--username", "ana", "--unit", "intake"], "short\n", "12 characters"),
    ],
)
def test_reviewers_add_refuses_bad_input(
    runner: Any, database: Database, args: list[str], stdin: str, message: str
) -> None:
    result = runner.invoke(args=["reviewers", "add", *args, "--password-stdin"], input=stdin)
    assert result.exit_code == 1
    assert result.stderr.startswith("error:") and message in result.stderr
    with database.read_session() as db:
        assert db.scalars(select(Reviewer)).all() == []


def test_reviewers_add_requires_password_stdin(runner: Any) -> None:
    result = runner.invoke(args=["reviewers", "add", "--username", "ana", "--unit", "intake"])
    assert result.exit_code != 0
