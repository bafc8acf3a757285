"""From "Send" to the receipt with JavaScript, in Chromium, as a reporter on a phone
would wait for it; and what /report weighs on the wire, with and without JavaScript.

Not a test. Run from the repository root:

    .venv/bin/python bench/js_submit.py [--text-runs 7] [--file-runs 3] [--wait 20]

A fresh installation with the real defaults (Argon2id 64 MiB / t=3 / p=4, proof of work
2^20 hashes in 16 puzzles; one intake reviewer so every case key is wrapped to a unit
member and the recovery key) is served by ``gunicorn -c config/gunicorn.py --workers 2``
on a free loopback port, with ``LIEMCHINH_INTAKE_RATE_LIMIT`` raised so the global
budgets do not interfere. The browser is the system's Chromium (/usr/bin/chromium,
headless, driven by Playwright; nothing downloaded).

One run: a new browser context (no cache, no cookies), the CPU slowed down with the
DevTools call ``Emulation.setCPUThrottlingRate`` (rate 4, a mid-range phone; or 1),
``/report`` opened, ``--wait`` seconds left for reading and typing (the page does its
proof of work and fetches its ticket meanwhile), the form filled, then "Send" clicked.
The time is measured inside the page: from the submit event to the frame after the
receipt became visible. A text run sends the questionnaire's answers only; a file run
adds one 10 MiB attachment (random bytes).

What the throttling slows down: Chromium applies ``setCPUThrottlingRate`` to the page's
main thread only. Its Web Workers (the proof of work, the encryption) run at the
machine's speed: measured here, a PoW worker did the same hashes per second at rate 1
and 4, also with the call sent to the worker targets through auto-attach. So the 4x
figures slow down the page's own part of the click (reading the form, handing the job
to the worker, showing the receipt), not the encryption; docs/crypto.md says so next to
the figures, and gives the workers' speed on their own.

Prints the median and the spread (min-max) of each series, and the slowest text run over
the median (``p95`` of 7 runs is the slowest). Never the best run alone.

Page weight: the bytes on the wire (response headers and encoded bodies, as Chromium
counts them) of everything ``/report`` loads until the network is idle, with JavaScript
(page, stylesheet, script, PoW worker, the submission info and the ticket it fetches)
and without; the encryption worker, loaded once the reporter starts writing, and the
hidden-information worker, loaded once a file is picked (issue 15), are printed on their
own lines.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    REPORT_FIELDS,
    add_key_only_reviewer,
    bench_line,
    gunicorn,
    installation_in_tempdir,
    machine_description,
    median,
)

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
FILE_BYTES = 10 * 1024 * 1024

# Installed in the page before the click: the submit event's time and the frame after the
# receipt section stopped being hidden, on the page's own clock.
_STOPWATCH = """() => {
  window.__bench = {};
  const form = document.getElementById('report-form');
  form.addEventListener('submit', () => { window.__bench.clicked = performance.now(); }, true);
  const status = document.getElementById('js-status');
  const preparing = form.dataset.msgPreparing;
  new MutationObserver(() => {
    if (status.textContent.startsWith(preparing)) window.__bench.waited = true;
  }).observe(status, {childList: true, characterData: true, subtree: true});
  const view = document.getElementById('receipt-view');
  new MutationObserver(() => {
    if (!view.hidden && window.__bench.shown === undefined) {
      requestAnimationFrame(() => { window.__bench.shown = performance.now(); });
    }
  }).observe(view, {attributes: true});
}"""


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def one_run(
    browser: Any, base: str, rate: float, wait: float, file_path: Path | None
) -> dict[str, float]:
    context = browser.new_context(base_url=base, locale="vi-VN")
    context.set_default_timeout(120_000)
    try:
        page = context.new_page()
        context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": rate})
        opened = time.monotonic()
        page.goto("/report")
        page.wait_for_timeout(max(0.0, wait - (time.monotonic() - opened)) * 1000)
        page.select_option("#q-category", REPORT_FIELDS["category"])
        page.select_option("#q-sector", REPORT_FIELDS["sector"])
        page.fill("#q-summary", REPORT_FIELDS["summary"])
        page.fill("#q-details", REPORT_FIELDS["details"])
        page.fill("#q-location", REPORT_FIELDS["location"])
        if file_path is not None:
            page.set_input_files("#attachments", str(file_path))
        page.evaluate(_STOPWATCH)
        page.click("#report-form button[type=submit]")
        page.wait_for_function("() => window.__bench.shown !== undefined", timeout=120_000)
        timing = page.evaluate("window.__bench")
        text = page.inner_text("#receipt-code").strip()
        if len(text.replace(" ", "")) != 20:
            raise RuntimeError(f"no receipt after the click: {page.inner_text('#js-status')!r}")
        # waited: the click came before the proof of work and the ticket were ready.
        return {
            "ms": float(timing["shown"] - timing["clicked"]),
            "waited": bool(timing.get("waited")),
        }
    finally:
        context.close()


def page_bytes(browser: Any, base: str, javascript: bool) -> dict[str, int]:
    """Bytes on the wire (response headers and encoded body, as Chromium counts them) per
    resource /report loads: with JavaScript, until the ticket is fetched (the work before
    the click); then, apart, what loads once the reporter starts writing."""
    context = browser.new_context(base_url=base, locale="vi-VN", java_script_enabled=javascript)
    by_path: dict[str, int] = {}
    prefix = ""

    def finished(request: Any) -> None:
        if not request.url.startswith(base):
            return  # data: URLs of the browser's own
        sizes = request.sizes()
        path = prefix + request.url[len(base) :]
        body = int(sizes["responseBodySize"])
        if body <= 0 and request.method == "GET":
            # Chromium reports no body size for a worker's script: count the bytes the
            # server sends for it, asked for with the browser's own Accept-Encoding
            # (urllib does not decode them, so the encoded size, as on the wire).
            accepted = request.all_headers().get("accept-encoding", "")
            ask = urllib.request.Request(request.url, headers={"Accept-Encoding": accepted})  # noqa: S310
            with urllib.request.urlopen(ask) as response:  # noqa: S310 - loopback
                body = len(response.read())
        size = int(sizes["responseHeadersSize"]) + body
        by_path[path] = by_path.get(path, 0) + size

    try:
        context.on("requestfinished", finished)
        page = context.new_page()
        page.goto("/report", wait_until="networkidle")
        if javascript:
            for _ in range(1200):  # at most two minutes for the proof of work
                if "/api/v1/tickets" in by_path:
                    break
                page.wait_for_timeout(100)
            prefix = "(on writing) "
            page.fill("#q-summary", "x")  # the encryption worker starts loading
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(1000)
            prefix = "(on picking a file) "
            picked = {"name": "ảnh.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff\xd9"}
            page.set_input_files("#attachments", files=[picked])  # the scrub worker loads
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(1000)
        return by_path
    finally:
        context.close()


def series(name: str, runs: list[dict[str, Any]]) -> list[str]:
    values = [r["ms"] for r in runs]
    waited = [i + 1 for i, r in enumerate(runs) if r["waited"]]
    print(
        f"  {name}: median {median(values):.0f} ms, min {min(values):.0f}, max {max(values):.0f}, "
        f"runs {', '.join(f'{v:.0f}' for v in values)}; "
        f"the click waited for the proof of work in run(s) {waited or 'none'}"
    )
    return [bench_line(name, median(values), "ms", 0)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--text-runs", type=int, default=7)
    parser.add_argument("--file-runs", type=int, default=3)
    parser.add_argument("--wait", type=float, default=20.0)
    parser.add_argument("--rates", default="4,1", help="CPU throttling rates, comma-separated")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} not found: this benchmark needs Debian's chromium", file=sys.stderr)
        return 2
    print(machine_description())
    extra = {"LIEMCHINH_INTAKE_RATE_LIMIT": "100000 per minute"}
    lines: list[str] = []
    with (
        installation_in_tempdir(extra) as inst,
        tempfile.TemporaryDirectory(prefix="liemchinh-bench-file-") as tmp,
    ):
        add_key_only_reviewer(inst.database, "intake")
        big = Path(tmp) / "biên bản họp.pdf"
        big.write_bytes(os.urandom(FILE_BYTES))
        print(
            f"Argon2id {inst.settings.receipt_kdf}, proof of work 2^{inst.settings.pow_difficulty}"
        )
        with gunicorn(inst.env) as server, chromium() as browser:
            base = f"http://127.0.0.1:{server.port}"
            for javascript in (True, False):
                weights = page_bytes(browser, base, javascript)
                at_open = sum(v for k, v in weights.items() if not k.startswith("(on "))
                label = "js" if javascript else "nojs"
                for path, size in sorted(weights.items()):
                    print(f"  [{label}] {path}: {size} bytes")
                lines.append(bench_line(f"report_page_bytes_{label}", at_open, "bytes", 0))
                if javascript:
                    worker = sum(v for k, v in weights.items() if k.startswith("(on writing)"))
                    lines.append(bench_line("report_crypto_worker_bytes", worker, "bytes", 0))
                    picked = (v for k, v in weights.items() if k.startswith("(on picking a file)"))
                    lines.append(bench_line("report_scrub_worker_bytes", sum(picked), "bytes", 0))
            for rate in [float(r) for r in args.rates.split(",")]:
                suffix = "" if rate == 1 else f"_cpu{rate:g}x"
                text_runs = [
                    one_run(browser, base, rate, args.wait, None) for _ in range(args.text_runs)
                ]
                text = [r["ms"] for r in text_runs]
                lines += series(f"js_submit_text_ms{suffix}", text_runs)
                lines.append(
                    bench_line(
                        "js_submit_text_p95_over_median"
                        + ("" if rate == 4 else "_unthrottled" if rate == 1 else suffix),
                        max(text) / statistics.median(text),
                        "ratio",
                        2,
                    )
                )
                if args.file_runs:
                    files = [
                        one_run(browser, base, rate, args.wait, big) for _ in range(args.file_runs)
                    ]
                    lines += series(f"js_submit_10mib_ms{suffix}", files)
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
