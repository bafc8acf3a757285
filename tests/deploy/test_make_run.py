"""`make run` stops cleanly on Ctrl-C: within seconds, with no SIGKILL and no crash.

Ctrl-C in a terminal sends SIGINT to every process of the foreground group; the test
does the same to the group of a real `make run` (the README's quick start), with a
browser-like keep-alive connection open, which used to make gunicorn wait out its 30 s
graceful timeout and SIGKILL its workers, after a bash trap had crashed on itself.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.reliability.harness import free_port

ROOT = Path(__file__).resolve().parents[2]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return conn.recv(12).startswith(b"HTTP/1.1")
    except OSError:
        return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_ctrl_c_stops_both_servers_within_seconds(tmp_path: Path, env: dict[str, str]) -> None:
    intake, review = free_port(), free_port()
    binds = [f"INTAKE_BIND=127.0.0.1:{intake}", f"REVIEW_BIND=127.0.0.1:{review}"]
    log = (tmp_path / "make-run.log").open("wb")
    # A new session, as a terminal gives a foreground job, with SIGINT at its default
    # (a background job of this test would inherit it ignored).
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "run", *binds],
        cwd=ROOT,
        # Two workers each, as a small server has: fewer to boot on a loaded test machine.
        env={**os.environ, **env, "LIEMCHINH_WORKERS": "2"},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 90
        while not (_answers(intake) and _answers(review)):
            assert proc.poll() is None, (tmp_path / "make-run.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "make-run.log").read_text()
            time.sleep(0.2)
        # A browser keeps its connection to the intake open.
        browser = socket.create_connection(("127.0.0.1", intake))
        browser.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        browser.recv(1)

        started = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C
        # proc.poll() reaps make itself: a zombie still counts as a member of the group.
        while True:
            running = {
                "make": proc.poll() is None,
                "its process group": _group_alive(proc.pid),
                "intake": _answers(intake),
                "review": _answers(review),
            }
            if not any(running.values()):
                break
            if time.monotonic() - started > 15:
                log.flush()
                output = (tmp_path / "make-run.log").read_text(errors="replace")
                raise AssertionError(f"still running 15 s after Ctrl-C: {running}\n{output}")
            time.sleep(0.1)
        browser.close()
    finally:
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        log.close()
    output = (tmp_path / "make-run.log").read_text(errors="replace")
    assert "Ctrl-C stops both" in output  # positive control: this is make run's output
    for symptom in ("SIGKILL", "Segmentation fault", "Traceback"):
        assert symptom not in output, output[-2000:]
