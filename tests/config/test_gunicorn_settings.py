"""LIEMCHINH_WORKERS and LIEMCHINH_THREADS: validated before gunicorn starts, with an
error that names the variable, and used when valid (through a real gunicorn)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.database import Database
from config import ConfigError
from config.settings import MAX_THREADS, MAX_WORKERS, ServerSettings, load_server_settings
from tests.reliability.harness import ROOT, GunicornServer, free_port


def test_defaults_are_two_workers_of_four_threads() -> None:
    assert load_server_settings({}) == ServerSettings(workers=2, threads=4)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LIEMCHINH_WORKERS", "0"),
        ("LIEMCHINH_WORKERS", "-2"),
        ("LIEMCHINH_WORKERS", "hai"),
        ("LIEMCHINH_WORKERS", str(MAX_WORKERS + 1)),
        ("LIEMCHINH_THREADS", "0"),
        ("LIEMCHINH_THREADS", "4.5"),
        ("LIEMCHINH_THREADS", str(MAX_THREADS + 1)),
    ],
)
def test_bad_values_are_refused_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_server_settings({variable: value})


@pytest.mark.parametrize(
    ("variable", "value"), [("LIEMCHINH_WORKERS", "0"), ("LIEMCHINH_THREADS", "bốn")]
)
def test_gunicorn_refuses_to_start_naming_the_variable(
    variable: str, value: str, env: dict[str, str], database: Database
) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "config/gunicorn.py",
            "--bind",
            f"127.0.0.1:{free_port()}",
            "wsgi:intake_app",
        ],
        cwd=ROOT,
        env={**os.environ, **env, variable: value},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert f"error: {variable} must be" in done.stderr
    assert "Traceback" not in done.stderr


def test_gunicorn_runs_the_configured_workers(
    env: dict[str, str], database: Database, tmp_path: Path
) -> None:
    # Positive control of the refusal above: the same variables, valid, are obeyed.
    settings = {**env, "LIEMCHINH_WORKERS": "3", "LIEMCHINH_THREADS": "2"}
    with GunicornServer(settings, tmp_path / "gunicorn.log", workers=None, threads=None) as server:
        assert len(server.wait_workers(3)) == 3
        assert len(server.workers()) == 3
