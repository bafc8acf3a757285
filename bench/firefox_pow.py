"""The proof of work in Firefox ESR with JIT and WebAssembly off (Tor Browser at "Safer"),
and with them on, for docs/crypto.md. Not part of ``make bench`` (minutes per run, and
it needs puppeteer-core). Run from the repository root:

    .venv/bin/python bench/firefox_pow.py [--runs 3] [--modes nojit,jit]

Serves a fresh installation with the real defaults (2^20 hashes in 16 puzzles) with
gunicorn on a free loopback port and runs ``node bench/firefox_pow.mjs`` against it (see
that file: Debian's firefox-esr, puppeteer-core over WebDriver BiDi, nothing downloaded).
Prints the runs and ``BENCH firefox_<mode>_pow_seconds_median``,
``BENCH firefox_<mode>_hashes_per_second``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO_ROOT, bench_line, gunicorn, installation_in_tempdir, machine_description


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--modes", default="nojit,jit")
    args = parser.parse_args()
    print(machine_description())
    lines = []
    with installation_in_tempdir() as inst, gunicorn(inst.env) as server:
        base = f"http://127.0.0.1:{server.port}"
        for mode in args.modes.split(","):
            # Streamed: a run without JIT takes minutes, and its line should show at once.
            proc = subprocess.Popen(
                ["node", "bench/firefox_pow.mjs", base, str(args.runs), mode],
                cwd=REPO_ROOT,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert proc.stdout is not None
            output = []
            for line in proc.stdout:
                print(line, end="", flush=True)
                output.append(line)
            if proc.wait() != 0:
                return 1
            runs = [json.loads(x) for x in output if x.startswith("{")]
            timed = [r for r in runs if not r.get("summary")]
            [summary] = [r for r in runs if r.get("summary")]
            seconds = [r["seconds"] for r in timed]
            print(
                f"  {mode}: median {statistics.median(seconds):.1f} s, "
                f"min {min(seconds):.1f}, max {max(seconds):.1f}; {summary['browser']}"
            )
            lines.append(
                bench_line(f"firefox_{mode}_pow_seconds_median", statistics.median(seconds), "s", 1)
            )
            lines.append(
                bench_line(
                    f"firefox_{mode}_hashes_per_second", summary["hashes_per_second"], "1/s", 0
                )
            )
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
