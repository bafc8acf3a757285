"""Throughput and peak memory of ``python -m crypto`` against the ``age`` tool.

Not a test. Run from the repository root:

    .venv/bin/python bench/crypto_throughput.py [--size-mib 512] [--rounds 8]

A random file is encrypted and decrypted by both tools, interleaved: each
round runs every (tool, direction) once, the tool order alternating from
round to round (use an even number of rounds so each tool goes first equally
often). Every child is put in the same state, because on a VM the kernel
time of writing 512 MiB into the page cache depends strongly on what
happened just before (memory freed long ago may have been handed back to
the hypervisor, and the first touch of each page then faults in the host):

* every child writes to a fresh path (no O_TRUNC of a big file);
* the previous child's output is checked and deleted right after it ran,
  outside the timed region, then ``os.sync()`` runs before the next child,
  so write-back, block freeing and discard are billed to nobody;
* decryption reads a ciphertext made once before the rounds (ours by us,
  age's by age), and writes to stdout redirected to a fresh file for both
  tools, so neither pays for an fsync (our ``decrypt -o`` fsyncs; age's does not).

* ``--settle SECONDS`` (default 3) sleeps that long after the ``os.sync()``, before
  each child. The VM hands memory that was freed 2 s earlier back to the host (free
  page reporting); a child that writes its 512 MiB into the page cache while that is
  going on, or into pages already handed back, pays 2-5 times the kernel time ("slow
  mode" in docs/benchmarks.md). Which child is hit depends on the benchmark's own
  rhythm of deleting outputs, not on the tool: without settling, one tool's decrypt
  runs fell into it 4 times in 6 and the other's once. After 3 s the reporting of the
  previous child's memory is over and every child starts in the same state.
  ``--settle 0`` gives the old behaviour.

Per child: wall time, user and system CPU time and peak RSS (``os.wait4``).
Throughput is size / the **best** wall time of the rounds, for each tool and direction;
the median is printed beside it. On this VM interference only ever adds time (a child
that lands in the slow mode pays 2-5 times the kernel time, whichever tool it is), and
how many of a tool's rounds it hits is luck: in one run both tools were slow in 5 rounds
of 6. The best round is each tool's own cost with the least interference, the usual
estimator on a noisy machine (as ``timeit`` recommends). The last lines are
machine-readable: ``BENCH <name> <value> <unit>``.
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
from typing import NamedTuple

REPO_ROOT = Path(__file__).resolve().parents[1]


class Sample(NamedTuple):
    wall: float  # seconds
    user: float  # seconds of user CPU time
    system: float  # seconds of kernel CPU time
    rss: float  # peak RSS, MiB


def run_child(argv: list[str], stdout_path: Path | None = None) -> Sample:
    """Run argv (stdout to a fresh file or /dev/null); raise if it fails."""
    out = open(stdout_path, "xb") if stdout_path else subprocess.DEVNULL  # noqa: SIM115
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
    # Linux reports ru_maxrss in KiB.
    return Sample(elapsed, usage.ru_utime, usage.ru_stime, usage.ru_maxrss / 1024)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument(
        "--settle", type=float, default=3.0, help="seconds to sleep before each child"
    )
    args = parser.parse_args()
    age = shutil.which("age")
    keygen = shutil.which("age-keygen")
    if not age or not keygen:
        print("age / age-keygen not found", file=sys.stderr)
        return 2
    py = [sys.executable, "-m", "crypto"]
    size: int = args.size_mib * 1024 * 1024
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

        def enc(tool: str, out: Path) -> list[str]:
            if tool == "ours":
                return [*py, "encrypt", "-r", recipient, "-o", str(out), str(plain)]
            return [age, "-r", recipient, "-o", str(out), str(plain)]

        def dec(tool: str, src: Path) -> list[str]:
            if tool == "ours":
                return [*py, "decrypt", "-i", str(key), str(src)]
            return [age, "-d", "-i", str(key), str(src)]

        # One ciphertext per tool for the decryption runs, made outside the timing.
        cipher = {tool: d / f"{tool}.age" for tool in ("ours", "age")}
        for tool, path in cipher.items():
            run_child(enc(tool, path))
        results: dict[tuple[str, str], list[Sample]] = {}
        for r in range(args.rounds):
            order = ["ours", "age"] if r % 2 == 0 else ["age", "ours"]
            for op in ("enc", "dec"):
                for tool in order:
                    out = d / f"out-{tool}-{op}-{r}"
                    os.sync()  # earlier write-back and freed blocks are billed to nobody
                    time.sleep(args.settle)
                    if op == "enc":
                        sample = run_child(enc(tool, out))
                        assert out.stat().st_size > size
                    else:
                        sample = run_child(dec(tool, cipher[tool]), out)
                        assert out.stat().st_size == size
                    out.unlink()
                    results.setdefault((tool, op), []).append(sample)
                    print(
                        f"round {r + 1} {tool:4} {op}: {size / sample.wall / 1e6:7.1f} MB/s"
                        f"  wall {sample.wall:.3f} s  user {sample.user:.3f} s"
                        f"  sys {sample.system:.3f} s  {sample.rss:5.1f} MiB"
                    )

    def median(tool: str, op: str, field: str) -> float:
        return float(statistics.median(float(getattr(s, field)) for s in results[(tool, op)]))

    def best_mbps(tool: str, op: str) -> float:
        return size / min(s.wall for s in results[(tool, op)]) / 1e6

    def median_mbps(tool: str, op: str) -> float:
        return size / median(tool, op, "wall") / 1e6

    peak = {
        tool: max(s.rss for (t, _), v in results.items() if t == tool for s in v)
        for tool in ("ours", "age")
    }
    settle = f", settle {args.settle:g} s" if args.settle else ""
    print(f"\nfile size {args.size_mib} MiB, {args.rounds} rounds{settle}")
    ratios = {}
    for op, name in (("enc", "encrypt"), ("dec", "decrypt")):
        best = {tool: best_mbps(tool, op) for tool in ("ours", "age")}
        mid = {tool: median_mbps(tool, op) for tool in ("ours", "age")}
        ratios[op] = best["ours"] / best["age"]
        cpu = "  ".join(
            f"{tool} user {median(tool, op, 'user'):.3f} s sys {median(tool, op, 'system'):.3f} s"
            for tool in ("ours", "age")
        )
        print(
            f"{name}: best ours {best['ours']:.1f} MB/s, age {best['age']:.1f} MB/s, "
            f"ratio {ratios[op]:.2f}; median ours {mid['ours']:.1f}, age {mid['age']:.1f}, "
            f"ratio {mid['ours'] / mid['age']:.2f}"
        )
        print(f"  medians: {cpu}")
    print(f"peak RSS: ours {peak['ours']:.1f} MiB, age {peak['age']:.1f} MiB")
    print(f"BENCH crypto_encrypt_ratio {ratios['enc']:.3f} ratio")
    print(f"BENCH crypto_decrypt_ratio {ratios['dec']:.3f} ratio")
    print(f"BENCH crypto_peak_rss_mb {peak['ours']:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
