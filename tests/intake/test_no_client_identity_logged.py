"""The intake never logs a client address or user agent - checked against a real server.

A positive control runs the same server with an access log turned on and shows the
same capture does see the address and user agent, so the absence is meaningful.
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from app.database import Database
from tests.conftest import CsrfClient
from tests.reliability.harness import GunicornServer

CLIENT_ADDRESS = "127.66.77.88"
USER_AGENT = "CanaryBrowser/7.7 (reporter-fingerprint-6c1f)"


def _request_from(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), source_address=(CLIENT_ADDRESS, 0)) as s:
        s.sendall(raw)
        s.settimeout(10)
        chunks = []
        while data := s.recv(65536):
            chunks.append(data)
    return b"".join(chunks)


def _serve_and_capture(env: dict[str, str], extra_args: list[str], log_path: Path) -> str:
    with GunicornServer(env, log_path, workers=1, extra_args=extra_args) as server:
        for path in ("/", "/?lang=en", "/does-not-exist"):
            reply = _request_from(
                server.port,
                f"GET {path} HTTP/1.1\r\nHost: x\r\nUser-Agent: {USER_AGENT}\r\n"
                "Referer: http://tracker.example/\r\nConnection: close\r\n\r\n".encode(),
            )
            assert reply.startswith(b"HTTP/1.1 ")
        _request_from(server.port, b"BROKEN REQUEST LINE\r\n\r\n")
    return server.stop()


@pytest.mark.slow
def test_real_server_logs_no_address_or_user_agent(
    env: dict[str, str], database: Database, tmp_path: Path
) -> None:
    logged = _serve_and_capture(env, [], tmp_path / "quiet.log")
    assert CLIENT_ADDRESS not in logged
    assert "CanaryBrowser" not in logged
    assert "tracker.example" not in logged

    # Positive control: with an access log on, the same capture sees both.
    control = _serve_and_capture(
        env, ["--access-logfile", "-", "--log-level", "debug"], tmp_path / "control.log"
    )
    assert CLIENT_ADDRESS in control
    assert "CanaryBrowser" in control


def test_app_logs_nothing_about_the_client(
    intake_client: CsrfClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    environ = {"REMOTE_ADDR": CLIENT_ADDRESS, "HTTP_USER_AGENT": USER_AGENT}
    for path in ("/", "/nope", "/?lang=en"):
        intake_client.get(path, environ_base=environ)
    intake_client.post("/", environ_base=environ)  # refused: not a form
    assert CLIENT_ADDRESS not in caplog.text
    assert "CanaryBrowser" not in caplog.text
