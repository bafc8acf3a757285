"""Throughput and peak memory of ``python -m crypto`` against the ``age`` tool.

Not a test. Run from the repository root:

    .venv/bin/python bench/crypto_throughput.py [--size-mib 512] [--rounds 3]

A random file is encrypted and decrypted by both tools, interleaved round by
round (order alternating) so that page-cache and thermal effects hit both
alike. Each child's wall time and peak RSS (``os.wait4``'s ru_maxrss) are
measured. Encryption writes with ``-o FILE``; decryption writes to stdout
redirected to a file for both tools, so neither pays for an fsync (our
``decrypt -o`` fsyncs before its atomic rename; age's ``-o`` does not).
``os.sync()`` runs before each child so that write-back of the previous
child's output is not billed to the next one.
The last lines are machine-readable: ``BENCH <name> <value> <unit>``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_child(argv: list[str], stdout_path: Path | None = None) -> tuple[float, float]:
    """Run argv; return (wall seconds, peak RSS in MiB). Raises if it fails."""
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL  # noqa: SIM115
    try:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=REPO_ROOT, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if stdout_path:
            out.close()  # type: ignore[union-attr]
    if proc.returncode != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{argv[0]} failed ({proc.returncode}): {err}")
    return elapsed, usage.ru_maxrss / 1024  # Linux reports KiB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    age = shutil.which("age")
    keygen = shutil.which("age-keygen")
    if not age or not keygen:
        print("age / age-keygen not found", file=sys.stderr)
        return 2
    py = [sys.executable, "-m", "crypto"]
    size = args.size_mib * 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="crypto-bench-") as tmp:
        d = Path(tmp)
        key = d / "key.txt"
        subprocess.run([keygen, "-o", str(key)], check=True, capture_output=True)
        recipient = subprocess.run(
            [keygen, "-y", str(key)], check=True, capture_output=True, text=True
        ).stdout.strip()
        plain = d / "plain"
        with plain.open("wb") as f:
            for _ in range(args.size_mib):
                f.write(os.urandom(1024 * 1024))

        tools = {
            "ours": {
                "enc": [*py, "encrypt", "-r", recipient, "-o", str(d / "ours.age"), str(plain)],
                "dec": [*py, "decrypt", "-i", str(key), str(d / "ours.age")],
            },
            "age": {
                "enc": [age, "-r", recipient, "-o", str(d / "age.age"), str(plain)],
                "dec": [age, "-d", "-i", str(key), str(d / "age.age")],
            },
        }
        results: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for r in range(args.rounds):
            order = ["ours", "age"] if r % 2 == 0 else ["age", "ours"]
            for op in ("enc", "dec"):
                for tool in order:
                    out = d / f"{tool}.out" if op == "dec" else None
                    for stale in (d / f"{tool}.age",) if op == "enc" else ():
                        stale.unlink(missing_ok=True)
                    os.sync()  # flush the previous run's writes so they do not slow this one
                    t, rss = run_child(tools[tool][op], out)
                    results.setdefault((tool, op), []).append((t, rss))
                    print(
                        f"round {r + 1} {tool:4} {op}: {size / t / 1e6:8.1f} MB/s  {rss:6.1f} MiB"
                    )
                    if out is not None:
                        assert out.stat().st_size == size
                        out.unlink()

    def mbps(tool: str, op: str) -> float:
        return size / statistics.median(t for t, _ in results[(tool, op)]) / 1e6

    peak = {
        tool: max(m for (t, _), v in results.items() if t == tool for _, m in v) for tool in tools
    }
    print(f"\nfile size {args.size_mib} MiB, {args.rounds} rounds, median wall time")
    for op, name in (("enc", "encrypt"), ("dec", "decrypt")):
        ours, theirs = mbps("ours", op), mbps("age", op)
        print(f"{name}: ours {ours:.1f} MB/s, age {theirs:.1f} MB/s, ratio {ours / theirs:.2f}")
    print(f"peak RSS: ours {peak['ours']:.1f} MiB, age {peak['age']:.1f} MiB")
    print(f"BENCH crypto_encrypt_ratio {mbps('ours', 'enc') / mbps('age', 'enc'):.3f} ratio")
    print(f"BENCH crypto_decrypt_ratio {mbps('ours', 'dec') / mbps('age', 'dec'):.3f} ratio")
    print(f"BENCH crypto_peak_rss_mb {peak['ours']:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
