// The proof of work in Firefox ESR as Tor Browser runs it at "Safer": JIT and
// WebAssembly off. Not a test; run by bench/firefox_pow.py, which serves the
// intake and passes its URL:
//
//   node bench/firefox_pow.mjs http://127.0.0.1:PORT RUNS [jit|nojit]
//
// Debian's firefox-esr (/usr/bin/firefox-esr) driven by puppeteer-core over
// WebDriver BiDi; puppeteer-core downloads no browser. It is found in the
// repository's node_modules, or in LIEMCHINH_PUPPETEER_DIR (a folder whose
// node_modules holds it).
//
// Each run, in the /report page: a fresh challenge from GET /api/v1/challenge,
// solved by the page's own PoW worker (/static/js/pow-worker.js), timed from
// the job's start to its answer. The hashes a run took are counted from its
// answer: each puzzle's search goes up from 0, so nonce + 1 attempts.
// Prints one JSON line per run, then a summary line.
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

const [base, runsArg = "3", mode = "nojit"] = process.argv.slice(2);
const root = process.env.LIEMCHINH_PUPPETEER_DIR || resolve(import.meta.dirname, "..");
const require = createRequire(join(root, "package.json"));
const puppeteer = require("puppeteer-core");

const prefs =
  mode === "nojit"
    ? {
        "javascript.options.baselinejit": false,
        "javascript.options.ion": false,
        "javascript.options.wasm": false,
      }
    : {};

const browser = await puppeteer.launch({
  browser: "firefox",
  protocol: "webDriverBiDi",
  executablePath: "/usr/bin/firefox-esr",
  headless: true,
  extraPrefsFirefox: prefs,
  protocolTimeout: 60 * 60 * 1000, // without JIT one run can take minutes
});
const errors = [];
try {
  const page = await browser.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${base}/report`, { waitUntil: "load" });
  const results = [];
  for (let i = 0; i < Number(runsArg); i++) {
    const run = await page.evaluate(async () => {
      const pow = await (await fetch("/api/v1/challenge", { cache: "no-store" })).json();
      const started = performance.now();
      const solution = await new Promise((done, fail) => {
        const w = new Worker("/static/js/pow-worker.js");
        w.onmessage = (e) => {
          if (e.data.type === "done") {
            w.terminate();
            done(e.data.solution);
          } else if (e.data.type === "error") fail(new Error("pow failed"));
        };
        w.postMessage({ challenge: pow.challenge, bits: pow.bits, puzzles: pow.puzzles });
      });
      const seconds = (performance.now() - started) / 1000;
      const hashes = solution.split(".").reduce((n, nonce) => n + Number(nonce) + 1, 0);
      return { seconds, hashes, puzzles: pow.puzzles, bits: pow.bits };
    });
    results.push(run);
    console.log(JSON.stringify({ mode, ...run, hashes_per_second: Math.round(run.hashes / run.seconds) }));
  }
  const rate = results.reduce((n, r) => n + r.hashes, 0) / results.reduce((n, r) => n + r.seconds, 0);
  const version = await browser.version();
  console.log(JSON.stringify({ summary: true, mode, browser: version, runs: results.length, hashes_per_second: Math.round(rate), console_errors: errors }));
} finally {
  await browser.close();
}
