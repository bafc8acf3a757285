"""Run every benchmark in sequence (``make bench``), pass their output through, and end
with a summary of all ``BENCH`` lines and their targets.

Not a test. Run from the repository root:

    .venv/bin/python bench/run_all.py

Exit status: 0 when every target is met, 1 when one is missed or a benchmark failed
(the summary says which). Each benchmark has a time limit; the whole run is meant to
finish in well under 10 minutes on a 2-core machine, plus about 8 for the browser
benchmark (bench/js_submit.py), whose runs wait 20 s each as a reporter would type.
"""

from __future__ import annotations

import operator
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

# (script, arguments, time limit in seconds)
BENCHMARKS: list[tuple[str, list[str], int]] = [
    ("bench/crypto_throughput.py", [], 300),
    ("bench/receipt_lookup.py", [], 150),
    ("bench/intake_throughput.py", [], 180),
    ("bench/inbox_latency.py", [], 200),
    ("bench/upload_rss.py", [], 200),
    # 20 runs of 20 s of "typing" each, plus the clicks: about 8 minutes on its own.
    ("bench/js_submit.py", [], 1200),
]

# name -> (comparison, threshold, text)
TARGETS: dict[str, tuple[Callable[[float, float], bool], float, str]] = {
    "crypto_encrypt_ratio": (operator.ge, 1.0, ">= 1.0"),
    "crypto_decrypt_ratio": (operator.ge, 1.0, ">= 1.0"),
    "crypto_peak_rss_mb": (operator.lt, 64.0, "< 64 MB"),
    "receipt_lookup_ratio": (operator.le, 1.1, "<= 1.1"),
    "intake_vs_argon2_bound": (operator.ge, 0.8, ">= 0.8"),
    "inbox_p95_ms": (operator.lt, 50.0, "< 50 ms"),
    "upload_peak_rss_mb": (operator.lt, 100.0, "< 100 MB"),
    # Issue 16: from "Send" to the receipt with JavaScript, the CPU slowed down 4x.
    "js_submit_text_ms_cpu4x": (operator.le, 500.0, "<= 500 ms"),
    "js_submit_text_p95_over_median": (operator.le, 1.5, "<= 1.5"),
    "js_submit_10mib_ms_cpu4x": (operator.le, 3000.0, "<= 3000 ms"),
    # Issue 15's targets for /report, all it loads before the click, with and without JavaScript.
    "report_page_bytes_js": (operator.le, 60 * 1024.0, "<= 60 KB"),
    "report_page_bytes_nojs": (operator.le, 20 * 1024.0, "<= 20 KB"),
}
EXPECTED = {
    "bench/crypto_throughput.py": ["crypto_encrypt_ratio", "crypto_decrypt_ratio"],
    "bench/receipt_lookup.py": ["receipt_lookup_ratio"],
    "bench/intake_throughput.py": ["intake_vs_argon2_bound"],
    "bench/inbox_latency.py": ["inbox_p95_ms"],
    "bench/upload_rss.py": ["upload_peak_rss_mb"],
    "bench/js_submit.py": [
        "js_submit_text_ms_cpu4x",
        "js_submit_text_p95_over_median",
        "js_submit_10mib_ms_cpu4x",
        "js_submit_text_ms",
        "js_submit_10mib_ms",
        "report_page_bytes_js",
        "report_page_bytes_nojs",
    ],
}


def run(script: str, args: list[str], limit: int) -> tuple[list[str], str | None]:
    """Run one benchmark, echoing its output; return its BENCH lines and an error."""
    print(f"\n===== {script} {' '.join(args)}".rstrip(), flush=True)
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, script, *args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    lines: list[str] = []
    assert proc.stdout is not None
    timer = _Killer(proc, limit)
    try:
        for line in proc.stdout:
            print(line, end="", flush=True)
            if line.startswith("BENCH "):
                lines.append(line.strip())
        proc.wait()
    finally:
        timer.cancel()
    elapsed = time.monotonic() - start
    print(f"===== {script}: exit {proc.returncode} after {elapsed:.0f} s", flush=True)
    if timer.fired:
        return lines, f"{script} exceeded its {limit} s limit"
    if proc.returncode != 0:
        return lines, f"{script} exited with {proc.returncode}"
    return lines, None


class _Killer:
    def __init__(self, proc: subprocess.Popen[str], limit: int) -> None:
        import threading

        self.fired = False
        self._proc = proc
        self._timer = threading.Timer(limit, self._kill)
        self._timer.daemon = True
        self._timer.start()

    def _kill(self) -> None:
        self.fired = True
        self._proc.terminate()  # the benchmark's own cleanup stops its server

    def cancel(self) -> None:
        self._timer.cancel()


def main() -> int:
    start = time.monotonic()
    results: list[str] = []
    problems: list[str] = []
    for script, args, limit in BENCHMARKS:
        lines, error = run(script, args, limit)
        results.extend(lines)
        if error:
            problems.append(error)
        seen = {line.split()[1] for line in lines}
        for name in EXPECTED.get(script, []):
            if name not in seen:
                problems.append(f"{script} printed no BENCH {name}")
    print(f"\n===== summary ({time.monotonic() - start:.0f} s in all)")
    for line in results:
        _, name, value, unit = line.split(maxsplit=3)
        target = TARGETS.get(name)
        if target is None:
            print(f"{line:<50} (no target)")
            continue
        compare, threshold, text = target
        met = compare(float(value), threshold)
        print(f"{line:<50} target {text:<9} {'met' if met else 'MISSED'}")
        if not met:
            problems.append(f"{name} = {value} {unit}, target {text}")
    if problems:
        print("\nTargets missed or benchmarks failed:")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print("\nEvery target met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
