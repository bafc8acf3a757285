"""The operator's command line stays single-person, but records who ran it:
``cli:<os user>``, with sudo's invoking user, never the constant "cli"."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from app.accounts import approvals
from app.accounts.approvals import Decider
from app.actors import operator_actor
from app.database import Database
from app.models import AccessChangeRequest, AuditEvent, Reviewer
from config import Settings
from tests.factories import make_account


def _actor(database: Database, action: str) -> str:
    with database.read_session() as db:
        return str(
            db.scalars(
                select(AuditEvent.actor)
                .where(AuditEvent.action == action)
                .order_by(AuditEvent.seq.desc())
                .limit(1)
            ).one()
        )


@pytest.fixture
def as_operator(monkeypatch: pytest.MonkeyPatch) -> str:
    # getpass.getuser() reads LOGNAME first: what a login shell sets.
    monkeypatch.setenv("LOGNAME", "vanhanh")
    monkeypatch.setenv("SUDO_USER", "ngoc.tran")
    return "cli:vanhanh(sudo:ngoc.tran)"


def test_the_label_names_the_user_and_sudo(
    monkeypatch: pytest.MonkeyPatch, as_operator: str
) -> None:
    assert operator_actor() == as_operator
    monkeypatch.delenv("SUDO_USER")
    assert operator_actor() == "cli:vanhanh"
    monkeypatch.setenv("LOGNAME", "bad name\nreviewer:1")  # cannot forge another actor
    assert operator_actor() == "cli:bad?name?reviewer?1"


def test_commands_record_the_operator(cli: Any, database: Database, as_operator: str) -> None:
    added = cli.invoke(
        args=[
            *("units", "add", "thanh-tra-quan-ninh-kieu", "--kind", "inspection"),
            *("--name-vi", "Thanh tra quận Ninh Kiều", "--name-en", "Ninh Kieu Inspectorate"),
        ]
    )
    assert added.exit_code == 0, added.output
    assert _actor(database, "unit.created") == as_operator
    created = cli.invoke(
        args=[
            "reviewers",
            "add",
            "--username",
            "duc.nguyen",
            "--unit",
            "intake",
            "--password-stdin",
        ],
        input="một mật khẩu đủ dài và khó đoán\n",
    )
    assert created.exit_code == 0, created.output
    assert _actor(database, "reviewer.created") == as_operator


def test_the_operator_approves_on_the_command_line(
    cli: Any, database: Database, settings: Settings, as_operator: str
) -> None:
    root = make_account(database, settings, "root", role="admin", units=("oversight",))
    with database.session() as db:
        admin = db.get(Reviewer, root.id)
        assert admin is not None
        [asked] = approvals.request_memberships(
            db, Decider.admin(admin), admin, ["oversight", "intake"], "Tăng cường tổ tiếp nhận"
        ).requested
    listed = cli.invoke(args=["access", "list"])
    assert listed.exit_code == 0 and f"{asked.id}\tmembership\troot\tintake" in listed.output
    approved = cli.invoke(args=["access", "approve", str(asked.id)])
    assert approved.exit_code == 0, approved.output
    assert _actor(database, "access_change.approved") == as_operator
    with database.read_session() as db:
        row = db.get(AccessChangeRequest, asked.id)
        assert row is not None and (row.status, row.decided_by) == ("approved", as_operator)
    again = cli.invoke(args=["access", "refuse", str(asked.id)])
    assert again.exit_code == 1 and "error:" in again.output
