"""Fixtures for notification tests: a real SMTP server (aiosmtpd) on 127.0.0.1, and
settings that point at it.

``smtp_server`` runs an aiosmtpd ``Controller`` on a free port with a handler that
keeps every message it accepts (and refuses the recipients listed in ``refuse``).
The ``env`` fixture of tests/conftest.py is overridden here so that the installation's
settings have SMTP on (STARTTLS off: the test server speaks plain SMTP on loopback).
"""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import update

# The admin page's routes must be on the review blueprint before any app registers it.
import app.review.notifications  # noqa: F401
from app.database import Database
from app.models import Reviewer
from tests.conftest import CHEAP_KDF_ENV

SENDER = "liemchinh@notify.example.org"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        text: str = part.get_content()
        return text


@dataclass
class Collector:
    """An aiosmtpd handler: keeps what it accepts, refuses the addresses in ``refuse``."""

    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    # aiosmtpd calls hooks by these names.
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.recipients]


@dataclass
class SmtpServer:
    port: int
    collector: Collector
    controller: Controller | None = None

    def start(self) -> None:
        if self.controller is None:
            self.controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)
            self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def received(self) -> list[Received]:
        return self.collector.received


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port(), Collector())
    server.start()
    yield server
    server.stop()


def smtp_env(port: int) -> dict[str, str]:
    return {
        "LIEMCHINH_SMTP_HOST": "127.0.0.1",
        "LIEMCHINH_SMTP_PORT": str(port),
        "LIEMCHINH_SMTP_STARTTLS": "off",
        "LIEMCHINH_SMTP_FROM": SENDER,
    }


@pytest.fixture
def env(
    tmp_path: Path, database_url: str, volatile_path: Path, smtp_server: SmtpServer
) -> dict[str, str]:
    return {
        "LIEMCHINH_INSTANCE_PATH": str(tmp_path / "instance"),
        "LIEMCHINH_DATABASE_URL": database_url,
        "LIEMCHINH_VOLATILE_PATH": str(volatile_path),
        "LIEMCHINH_REVIEW_URL": "https://review.example.org",
        **CHEAP_KDF_ENV,
        **smtp_env(smtp_server.port),
    }


def set_address(database: Database, reviewer_id: int, address: str | None) -> None:
    with database.session() as db:
        db.execute(update(Reviewer).where(Reviewer.id == reviewer_id).values(email=address))
