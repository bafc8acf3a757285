"""deploy/tor/torrc.example publishes the intake, and nothing else, as an onion service."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.reliability.harness import ROOT

TORRC = ROOT / "deploy" / "tor" / "torrc.example"
INTAKE_PORT = "127.0.0.1:8080"  # where README and deploy/nginx run wsgi:intake_app
LISTENERS = (
    "SocksPort",
    "ORPort",
    "ControlPort",
    "DNSPort",
    "TransPort",
    "NATDPort",
    "ExtORPort",
    "HTTPTunnelPort",
    "MetricsPort",
    "DirPort",
)


def _options() -> list[tuple[str, str]]:
    lines = [line.split("#", 1)[0].strip() for line in TORRC.read_text("utf-8").splitlines()]
    return [tuple(line.split(None, 1)) for line in lines if line]  # type: ignore[misc]


def test_only_the_intake_is_published() -> None:
    options = _options()
    ports = [value for key, value in options if key == "HiddenServicePort"]
    assert ports == [f"80 {INTAKE_PORT}"]
    services = [value for key, value in options if key == "HiddenServiceDir"]
    assert len(services) == 1
    for key, value in options:
        if key in LISTENERS:
            assert value == "0", f"{key} {value}: tor must open no port of its own"
    assert {key for key, _ in options} >= {"SocksPort", "ORPort"}
    assert not any(key == "HiddenServiceNonAnonymousMode" for key, _ in options)


@pytest.mark.skipif(shutil.which("tor") is None, reason="needs the tor binary to check the syntax")
def test_tor_accepts_the_file(tmp_path: Path) -> None:
    text = TORRC.read_text("utf-8")
    text = text.replace("/var/lib/tor/liemchinh-intake/", f"{tmp_path}/hs/")
    text = re.sub(r"DataDirectory \S+", f"DataDirectory {tmp_path}/data", text)
    text = text.replace("Log notice syslog", "Log notice stderr")
    config = tmp_path / "torrc"
    config.write_text(text, "utf-8")
    check = subprocess.run(
        ["tor", "--verify-config", "-f", str(config)], capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr
