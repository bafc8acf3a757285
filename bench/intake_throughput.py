"""No-JavaScript intake submissions per second against gunicorn, divided by the Argon2id
bound ``cores / seconds per receipt derivation`` measured in the same run.

Not a test. Run from the repository root:

    .venv/bin/python bench/intake_throughput.py [--clients 4] [--submissions 150] [--max-seconds 60]

A fresh installation (SQLite, default Argon2id costs 64 MiB / t=3 / p=4, one intake
reviewer so every case key is wrapped to a unit member and the recovery key) is served by
``gunicorn -c config/gunicorn.py --workers 2`` on a free loopback port, with
``LIEMCHINH_INTAKE_RATE_LIMIT`` raised so the global limit does not interfere.

Each client is a browser without JavaScript: its own keep-alive connection and cookie
jar; a submission is ``GET /report`` (CSRF token and one-time form nonce from the page),
then ``POST /report`` as multipart/form-data with the form fields and one 100 KB
attachment (random bytes, made once). A submission succeeds when the answer is 200 with a
receipt code on the page; anything else counts as a failure. The load is bounded: at most
``--submissions`` timed submissions in all (after one untimed warm-up per client) and at
most ``--max-seconds``.

Throughput = successful submissions / wall time of the timed phase. The bound is
``os.cpu_count() / t`` with ``t`` the median CPU time (core-seconds) of
``derive_receipt_keys`` (one Argon2id run, the installation's parameters) over 9 runs in
this process before the server starts and 9 after it stopped (see ``argon2_seconds`` for
why CPU and not wall time), or the rate of derivations with every core deriving at once,
whichever is higher. The CPU time the workers and this load generator used during the
timed phase is printed per submission.
p50 and p99 are of the POST latency (the whole GET+POST cycle is printed too).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    REPORT_FIELDS,
    Browser,
    add_key_only_reviewer,
    bench_line,
    gunicorn,
    installation_in_tempdir,
    machine_description,
    median,
    multipart_head_and_tail,
    percentile,
    receipt_in,
)
from sqlalchemy import func, select

from app.models import Blob, Case
from crypto import ReceiptKdfParams, derive_receipt_keys, new_receipt

TARGET = 0.8
ATTACHMENT_BYTES = 100 * 1000


def argon2_seconds(params: ReceiptKdfParams, runs: int = 9) -> list[float]:
    """Core-seconds per receipt derivation: CPU time, not wall time.

    With p > 1 lanes, libargon2 runs a derivation on several threads, so its wall time
    is shorter than the core time it occupies; ``cores / wall time`` would promise more
    derivations per second than the cores can do. CPU time per run is what one core
    spends, which is what ``cores / seconds per run`` means.
    """
    salt = secrets.token_bytes(16)
    times = []
    derive_receipt_keys(new_receipt(), salt, params)  # warm-up
    for _ in range(runs):
        receipt = new_receipt()
        start = time.process_time()
        derive_receipt_keys(receipt, salt, params)
        times.append(time.process_time() - start)
    return times


def argon2_saturated_rate(params: ReceiptKdfParams, cores: int, runs_each: int = 6) -> float:
    """Receipt derivations per second with every core busy deriving and nothing else.

    This is the ceiling the intake can approach: the cores running Argon2id in parallel,
    as the workers do under load (concurrent runs share memory bandwidth, so they are
    slower than one run alone). Measured with one thread per core; libargon2 releases the
    GIL.
    """
    salt = secrets.token_bytes(16)

    def worker() -> None:
        for _ in range(runs_each):
            derive_receipt_keys(new_receipt(), salt, params)

    threads = [threading.Thread(target=worker) for _ in range(cores)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return cores * runs_each / (time.perf_counter() - start)


class Load:
    def __init__(self, port: int, total: int, deadline: float, attachment: bytes) -> None:
        self.port = port
        self.remaining = total
        self.deadline = deadline
        self.attachment = attachment
        self.lock = threading.Lock()
        self.post_latency: list[float] = []
        self.cycle_latency: list[float] = []
        self.receipts: list[str] = []
        self.failures: list[str] = []

    def take(self) -> bool:
        with self.lock:
            if self.remaining <= 0 or time.monotonic() > self.deadline:
                return False
            self.remaining -= 1
            return True

    def submit(self, browser: Browser) -> tuple[float, float, str]:
        start = time.perf_counter()
        tokens = browser.form_tokens("/report")
        head, tail, content_type = multipart_head_and_tail(
            {**REPORT_FIELDS, **tokens}, "attachments", "scan.pdf", "application/pdf"
        )
        body = head + self.attachment + tail
        post_start = time.perf_counter()
        status, html = browser.request(
            "POST", "/report", body=body, headers={"Content-Type": content_type}
        )
        end = time.perf_counter()
        receipt = receipt_in(html) if status == 200 else None
        if receipt is None:
            raise RuntimeError(f"POST /report: {status} without a receipt")
        return end - post_start, end - start, receipt

    def client(self, warm: threading.Barrier) -> None:
        browser = Browser(self.port)
        try:
            try:
                self.submit(browser)  # untimed warm-up
            except Exception as exc:
                with self.lock:
                    self.failures.append(f"warm-up: {exc}")
            warm.wait(timeout=120)
            while self.take():
                try:
                    post, cycle, receipt = self.submit(browser)
                except Exception as exc:
                    with self.lock:
                        self.failures.append(str(exc))
                    continue
                with self.lock:
                    self.post_latency.append(post)
                    self.cycle_latency.append(cycle)
                    self.receipts.append(receipt)
        finally:
            browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--submissions", type=int, default=150)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    print(f"machine: {machine_description()}")
    cores = os.cpu_count() or 1
    env = {
        "LIEMCHINH_INTAKE_RATE_LIMIT": "100000 per minute",
        **{k: v for k, v in os.environ.items() if k.startswith("LIEMCHINH_RECEIPT_ARGON2_")},
    }
    with installation_in_tempdir(env) as inst:
        kdf = inst.settings.receipt_kdf
        params = ReceiptKdfParams(kdf.memory_kib, kdf.time_cost, kdf.parallelism)
        a2_before = argon2_seconds(params)
        saturated = argon2_saturated_rate(params, cores)
        print(
            f"receipt Argon2id ({kdf.memory_kib} KiB, t={kdf.time_cost}, p={kdf.parallelism}) "
            f"before the load: one run alone {median(a2_before) * 1000:.1f} core-ms median; "
            f"all {cores} cores deriving at once: {saturated:.2f}/s"
        )
        add_key_only_reviewer(inst.database, "intake")
        attachment = secrets.token_bytes(ATTACHMENT_BYTES)
        with gunicorn(inst.env, "wsgi:intake_app", workers=args.workers) as server:
            print(
                f"gunicorn: {args.workers} workers (gthread), port {server.port}; "
                f"{args.clients} clients, {args.submissions} submissions or "
                f"{args.max_seconds:.0f} s, {ATTACHMENT_BYTES // 1000} KB attachment each"
            )
            load = Load(server.port, args.submissions, time.monotonic() + 10**6, attachment)
            warm = threading.Barrier(args.clients + 1)
            threads = [
                threading.Thread(target=load.client, args=(warm,), daemon=True)
                for _ in range(args.clients)
            ]
            for thread in threads:
                thread.start()
            warm.wait(timeout=180)
            load.deadline = time.monotonic() + args.max_seconds
            start = time.perf_counter()
            client_cpu_start = time.process_time()
            worker_cpu_start = server.workers_cpu_seconds()
            for thread in threads:
                thread.join(timeout=args.max_seconds + 180)
            elapsed = time.perf_counter() - start
            client_cpu = time.process_time() - client_cpu_start
            worker_cpu = server.workers_cpu_seconds() - worker_cpu_start
            errors = server.log_tail(10)
        with inst.database.read_session() as db:
            stored = int(db.scalar(select(func.count()).select_from(Case)) or 0)
            blobs = int(db.scalar(select(func.count()).select_from(Blob)) or 0)
    # The same measurement after the load: the bound brackets the timed phase, so a
    # machine that is faster or slower during the load than just before it (other
    # tenants, host memory state) biases neither way.
    a2_after = argon2_seconds(params)
    a2 = a2_before + a2_after
    t_a2 = median(a2)
    isolated = cores / t_a2
    print(
        f"receipt Argon2id after the load: {median(a2_after) * 1000:.1f} core-ms median; "
        f"all {len(a2)} runs: median {t_a2 * 1000:.1f} (min {min(a2) * 1000:.1f}, "
        f"max {max(a2) * 1000:.1f}) -> {cores} / {t_a2:.3f} s = {isolated:.2f}/s"
    )
    # The bound is the larger of the two, so the ratio is never flattered.
    bound = max(isolated, saturated)
    print(f"bound: {bound:.2f} submissions/s")
    ok = len(load.receipts)
    rate = ok / elapsed if elapsed > 0 else 0.0
    ratio = rate / bound
    print(
        f"{ok} submissions in {elapsed:.1f} s = {rate:.2f} submissions/s; "
        f"failures {len(load.failures)}; cases stored {stored} (incl. {args.clients} warm-up), "
        f"blobs {blobs}; distinct receipts {len(set(load.receipts))}"
    )
    if ok:
        # Where the cores went: the server's workers, this load generator, and the rest
        # (idle, kernel work outside these processes, other tenants of the machine).
        print(
            f"CPU per submission: gunicorn workers {worker_cpu / ok * 1000:.1f} ms, "
            f"load generator {client_cpu / ok * 1000:.1f} ms; "
            f"cores busy {(worker_cpu + client_cpu) / elapsed:.2f} of {cores}"
        )
    if load.failures:
        print("failures:", *sorted(set(load.failures))[:5], sep="\n  ")
        print("server log tail:\n" + errors)
    if ok:
        print(
            f"POST /report latency: p50 {percentile(load.post_latency, 50) * 1000:.0f} ms, "
            f"p99 {percentile(load.post_latency, 99) * 1000:.0f} ms; GET+POST cycle: "
            f"p50 {percentile(load.cycle_latency, 50) * 1000:.0f} ms, "
            f"p99 {percentile(load.cycle_latency, 99) * 1000:.0f} ms"
        )
    verdict = "met" if ratio >= TARGET and not load.failures else "MISSED"
    print(f"ratio {rate:.2f} / {bound:.2f} = {ratio:.3f} (target >= {TARGET}): {verdict}")
    print(bench_line("intake_vs_argon2_bound", ratio, "ratio"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
