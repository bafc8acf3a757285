"""`flask --app wsgi:review_app init` and `units`."""

import re
import stat
from typing import Any

import pytest
from sqlalchemy import func, select

from app import schema
from app.database import Database
from app.factory import create_review_app
from app.models import AuditEvent, RecoveryKey, Unit
from config import Settings
from crypto import Identity

pytestmark = pytest.mark.both_backends


@pytest.fixture
def fresh_cli(settings: Settings) -> Any:
    """A CLI runner on an installation where nothing exists yet (no secrets, no schema)."""
    runner: Any = None

    # The flask command loads the app inside a click context; reproduce that here.
    import click

    with click.Context(click.Command("flask")):
        app = create_review_app(settings)
    runner = app.test_cli_runner()
    return runner, app


def test_init_creates_everything_and_prints_the_recovery_identity_once(
    fresh_cli: Any, settings: Settings
) -> None:
    runner, _ = fresh_cli
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(settings.secrets_file.stat().st_mode) == 0o600
    identity_lines = re.findall(r"AGE-SECRET-KEY-1[0-9A-Z]+", result.output)
    assert len(identity_lines) == 1
    identity = Identity.parse(identity_lines[0])
    database = Database(settings.database_url)
    with database.read_session() as db:
        assert sorted(db.scalars(select(Unit.slug)).all()) == [
            "inspection",
            "intake",
            "investigation",
            "oversight",
        ]
        [key] = db.scalars(select(RecoveryKey)).all()
        assert key.recipient == str(identity.recipient)
    assert schema.is_at_head(database.engine)
    # The private half is nowhere on the server.
    for path in settings.instance_path.rglob("*"):
        if path.is_file():
            assert identity_lines[0].encode() not in path.read_bytes()
    database.dispose()

    again = runner.invoke(args=["init"])
    assert again.exit_code == 0
    assert "AGE-SECRET-KEY" not in again.output
    database = Database(settings.database_url)
    with database.read_session() as db:
        assert db.scalar(select(func.count()).select_from(Unit)) == 4
        assert db.scalar(select(func.count()).select_from(RecoveryKey)) == 1
    database.dispose()


def test_init_with_given_recovery_recipient(fresh_cli: Any, settings: Settings) -> None:
    runner, _ = fresh_cli
    recipient = str(Identity.generate().recipient)
    result = runner.invoke(args=["init", "--recovery-recipient", recipient])
    assert result.exit_code == 0, result.output
    assert "AGE-SECRET-KEY" not in result.output
    database = Database(settings.database_url)
    with database.read_session() as db:
        assert db.scalars(select(RecoveryKey.recipient)).all() == [recipient]
    database.dispose()


def test_init_refuses_a_malformed_recipient(fresh_cli: Any, settings: Settings) -> None:
    runner, _ = fresh_cli
    result = runner.invoke(args=["init", "--recovery-recipient", "age1notakey"])
    assert result.exit_code != 0
    assert "recipient" in result.output


def test_units_add_and_list(cli: Any, database: Database) -> None:
    result = cli.invoke(
        args=[
            "units",
            "add",
            "inspection-ninh-kieu",
            "--kind",
            "inspection",
            "--name-vi",
            "Thanh tra quận Ninh Kiều",
            "--name-en",
            "Ninh Kiều District Inspectorate",
        ]
    )
    assert result.exit_code == 0, result.output
    listing = cli.invoke(args=["units", "list"]).output
    assert "inspection-ninh-kieu\tinspection\tactive\tThanh tra quận Ninh Kiều" in listing
    with database.read_session() as db:
        assert (
            db.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "unit.created")
            )
            == 5
        )


@pytest.mark.parametrize(
    ("slug", "message"), [("Bad Slug", "lowercase"), ("intake", "already exists")]
)
def test_units_add_refuses_bad_input_and_changes_nothing(
    cli: Any, database: Database, slug: str, message: str
) -> None:
    result = cli.invoke(
        args=["units", "add", slug, "--kind", "inspection", "--name-vi", "X", "--name-en", "X"]
    )
    assert result.exit_code == 1
    assert message in result.output
    with database.read_session() as db:
        assert db.scalar(select(func.count()).select_from(Unit)) == 4


def test_db_current_reports_head(cli: Any, database: Database) -> None:
    assert "(head)" in cli.invoke(args=["db", "current"]).output
