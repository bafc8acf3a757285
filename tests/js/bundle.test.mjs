// The built bundle: static checks, and the DOM glue driven through a small fake
// DOM with a mocked fetch (no browser, no network).
//
// The bundle under test is built fresh into a temp dir with the exact command
// in assets/js/BUILD; if app/static/js/intake.js exists it must be identical
// (a stale committed bundle fails here).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runInThisContext } from "node:vm";

import { decrypt, findInFormData, keyPair, puzzlesOk } from "./helpers.mjs";

const ROOT = resolve(import.meta.dirname, "../..");
const NAMES = ["intake.js", "pow-worker.js", "crypto-worker.js", "scrub-worker.js"];

function buildBundles() {
  const cmd = readFileSync(join(ROOT, "assets/js/BUILD"), "utf8").trim();
  assert.ok(!cmd.includes("\n"), "BUILD is one line");
  const args = cmd.split(/\s+/);
  const bin = args.shift();
  const dir = mkdtempSync(join(tmpdir(), "lc-bundle-"));
  try {
    const fixed = args.map((a) => (a.startsWith("--outdir=") ? `--outdir=${dir}` : a));
    assert.ok(fixed.includes(`--outdir=${dir}`), "BUILD names an --outdir");
    execFileSync(join(ROOT, bin), fixed, { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
    return Object.fromEntries(NAMES.map((n) => [n, readFileSync(join(dir, n), "utf8")]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const BUNDLES = buildBundles();
const BUNDLE = BUNDLES["intake.js"];

test("bundles: deterministic, self-contained, no eval, no other origins", () => {
  assert.deepEqual(buildBundles(), BUNDLES, "two builds are byte-identical");
  for (const name of NAMES) {
    const artifact = join(ROOT, "app/static/js", name);
    const code = BUNDLES[name];
    if (existsSync(artifact)) {
      assert.equal(readFileSync(artifact, "utf8"), code, `app/static/js/${name} is up to date`);
    }
    assert.ok(code.startsWith("(()=>{"), "IIFE");
    assert.doesNotMatch(code, /https?:\/\//, "no absolute URLs at all");
    assert.doesNotMatch(code, /\/\/[a-z0-9.-]+\.[a-z]{2,}\//i, "no protocol-relative URLs");
    assert.doesNotMatch(code, /(^|[^.\w$])eval\s*\(/, "no eval(");
    assert.doesNotMatch(code, /new\s+Function\b|[^.\w$]Function\s*\(/, "no Function constructor");
    assert.doesNotMatch(code, /\bimport\s*\(|importScripts|sourceMappingURL/);
    assert.doesNotMatch(code, /console\.|localStorage|sessionStorage|indexedDB|document\.cookie|sendBeacon/);
    assert.doesNotMatch(code, /\.style\b|setAttribute\("style"/, "no inline styles");
    assert.doesNotMatch(code, /[^\x09\x0a\x0d\x20-\x7e]/, "pure ASCII");
  }
  // The page's own script carries no cryptography: that loads with the encryption
  // worker, when it is needed (page weight, issue 16). The workers touch no network.
  assert.ok(BUNDLE.length < 40 * 1024, `intake.js is ${BUNDLE.length} bytes`);
  assert.doesNotMatch(BUNDLE, /age-encryption\.org/);
  assert.match(BUNDLES["crypto-worker.js"], /age-encryption\.org/);
  for (const name of ["pow-worker.js", "crypto-worker.js", "scrub-worker.js"]) {
    assert.doesNotMatch(BUNDLES[name], /\bfetch\(|XMLHttpRequest|WebSocket|document\./, name);
  }
});

// ------------------------------------------------------------------ fake workers

/**
 * A Web Worker for Node: runs the built worker bundle with its own `self`, in
 * this realm (so typed arrays and Blobs are the same classes), and passes
 * messages on the next turn of the event loop, as a browser does.
 */
class FakeWorker {
  static started = [];

  constructor(url) {
    const name = String(url).split("/").pop();
    assert.ok(["pow-worker.js", "crypto-worker.js", "scrub-worker.js"].includes(name), `worker URL ${url}`);
    this.url = url;
    this.terminated = false;
    this.onmessage = null;
    this.onerror = null;
    const inside = {
      onmessage: null,
      postMessage: (data) =>
        setImmediate(() => {
          if (!this.terminated && this.onmessage) this.onmessage({ data });
        }),
    };
    this.inside = inside;
    // The test's own harness may build a function; the bundles under test may not.
    new Function("self", BUNDLES[name])(inside);
    FakeWorker.started.push(this);
  }

  postMessage(data) {
    setImmediate(() => {
      if (!this.terminated && this.inside.onmessage) this.inside.onmessage({ data });
    });
  }

  terminate() {
    this.terminated = true;
  }
}
globalThis.Worker = FakeWorker;

// ------------------------------------------------------------------ fake DOM

class HTMLSelectElement {
  constructor(name, options, { multiple = false, required = false } = {}) {
    Object.assign(this, { name, multiple, required, disabled: false });
    this.options = options.map(([value, selected]) => ({ value, selected: !!selected }));
  }
  get selectedOptions() {
    return this.options.filter((o) => o.selected);
  }
  get value() {
    return this.selectedOptions[0]?.value ?? "";
  }
  focus() {
    focused = this.name;
  }
}
class RadioNodeList extends Array {
  get value() {
    return this.find((e) => e.checked)?.value ?? "";
  }
}
let focused = null;

function input(type, name, value = "", extra = {}) {
  return { tagName: "INPUT", type, name, value, checked: false, disabled: false, focus: () => (focused = name), ...extra };
}

function makeForm(id, dataset, controls) {
  const listeners = [];
  const buttons = [{ type: "submit", disabled: false }];
  const form = {
    id,
    hidden: false,
    dataset,
    attrs: {},
    resetCalled: false,
    listeners,
    buttons,
    addEventListener(type, fn) {
      if (type === "submit") listeners.push(fn);
    },
    reportValidity: () => true,
    reset() {
      this.resetCalled = true;
    },
    setAttribute(k, v) {
      this.attrs[k] = v;
    },
    elements: {
      namedItem(name) {
        const found = controls.filter((c) => c.name === name);
        if (found.length === 0) return null;
        if (found.length === 1 && !(found[0].type === "checkbox" && found[0].group)) return found[0];
        return RadioNodeList.from(found);
      },
    },
    querySelector(sel) {
      if (sel === 'input[type="file"][name="attachments"]') {
        return controls.find((c) => c.type === "file" && c.name === "attachments") || null;
      }
      throw new Error(`fake DOM: unsupported selector ${sel}`);
    },
    querySelectorAll(sel) {
      if (sel === 'input[name="excluded_units"]:checked') {
        return controls.filter((c) => c.name === "excluded_units" && c.checked);
      }
      if (sel === 'button:not([type]), button[type="submit"], input[type="submit"]') return buttons;
      throw new Error(`fake DOM: unsupported selector ${sel}`);
    },
    async submit() {
      let prevented = false;
      const event = { preventDefault: () => (prevented = true) };
      await Promise.all(listeners.map((fn) => fn(event)));
      return prevented;
    },
  };
  return form;
}

const MSGS = {
  lang: "vi",
  msgWorking: "Đang xử lý…",
  msgPreparing: "Đang chuẩn bị gửi an toàn…",
  powWorker: "/static/js/pow-worker.js",
  cryptoWorker: "/static/js/crypto-worker.js",
  msgEncrypting: "Đang mã hoá…",
  msgSending: "Đang gửi…",
  msgFailed: "Gửi không thành công.",
  msgRequired: "Vui lòng trả lời các câu hỏi bắt buộc.",
  msgTooLarge: "Tệp quá lớn.",
};

function installDom(elements) {
  const byId = new Map(elements.map((e) => [e.id, e]));
  globalThis.document = {
    readyState: "complete",
    body: { classList: new Set() },
    getElementById: (id) => byId.get(id) || null,
    querySelectorAll: () => [],
    addEventListener() {
      throw new Error("readyState is complete: init runs at once");
    },
  };
  globalThis.HTMLSelectElement = HTMLSelectElement;
  globalThis.RadioNodeList = RadioNodeList;
  globalThis.location = {
    reloaded: 0,
    assigned: [],
    reload() {
      this.reloaded++;
    },
    assign(url) {
      this.assigned.push(url);
    },
  };
  runInThisContext(BUNDLE, { filename: "intake.js" });
}

function json(status, body) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

function mockFetch(routes) {
  const calls = [];
  globalThis.fetch = async (url, init = {}) => {
    const call = { url, method: init.method || "GET", init, headers: init.headers || {} };
    calls.push(call);
    const key = `${call.method} ${url}`;
    if (!routes[key]) throw new TypeError("network error");
    return routes[key](call);
  };
  return calls;
}

const SECRET = "Giám đốc Sở nhận hối lộ GLUE-SECRET-41";

async function world({ reportStatus = 201, required = false, bigFile = false } = {}) {
  FakeWorker.started = [];
  const [r1, recovery, reporter] = await Promise.all([1, 2, 3].map(() => keyPair()));
  const info = {
    recipients: [r1.recipient, recovery.recipient],
    recovery_recipient: recovery.recipient,
    units: [{ slug: "investigation", name: "Điều tra", recipients: [] }],
    questionnaire: {
      questions: [
        { id: "category", type: "select", required: true },
        { id: "sector", type: "select", required: true },
        { id: "details", type: "textarea", required: true, max_length: 5000 },
        { id: "agencies", type: "multiselect", required },
        { id: "when", type: "date", required: false },
        { id: "witness", type: "text", required: false },
        { id: "not_on_page", type: "text", required: false },
      ],
    },
    limits: { max_file_bytes: 1000, max_report_bytes: 5000, max_files: 3 },
    pow: { challenge: "glue-challenge", difficulty: 8, puzzles: 4, bits: 6, expires_in: 600 },
  };
  const ticket = {
    ticket: "T-1",
    receipt: "1111-2222-3333-4444-5555",
    reporter_recipient: reporter.recipient,
    expires: "x",
    expires_in: 1800,
  };
  const file = new File([bigFile ? new Uint8Array(2000) : "PHOTO-BYTES-GLUE"], "anh-chup.jpg", { type: "image/jpeg" });
  const controls = [
    new HTMLSelectElement("category", [["", false], ["bribery", true]]),
    new HTMLSelectElement("sector", [["", false], ["land", true]]),
    input("textarea", "details", SECRET),
    input("checkbox", "agencies", "ubnd", { checked: !required, group: true }),
    input("checkbox", "agencies", "so-xd", { checked: false, group: true }),
    input("date", "when", "2025-10-01"),
    input("text", "witness", "   "),
    input("file", "attachments", "", { files: [file] }),
    input("checkbox", "excluded_units", "investigation", { checked: true }),
    input("hidden", "csrf_token", "csrf-abc"),
  ];
  const form = makeForm("report-form", { api: "/api/v1", ...MSGS }, controls);
  const status = { id: "js-status", textContent: "" };
  const code = { id: "receipt-code", textContent: "" };
  const view = { id: "receipt-view", hidden: true, hasAttribute: () => false, scrollIntoView() {} };
  let reportBody = null;
  const calls = mockFetch({
    "GET /api/v1/submission": () => json(200, info),
    "POST /api/v1/tickets": () => json(201, ticket),
    "POST /api/v1/reports": (call) => {
      reportBody = call.init.body;
      return reportStatus === 201
        ? json(201, { status: "stored" })
        : json(reportStatus, { error: "ticket_expired", message: "Phiếu đã hết hạn." });
    },
  });
  installDom([form, status, code, view]);
  return { r1, recovery, reporter, info, ticket, form, status, code, view, calls, body: () => reportBody };
}

test("report form: PoW, ticket, encrypted report, receipt shown", async () => {
  const w = await world();
  assert.equal(w.form.listeners.length, 1, "submit handler installed");
  assert.equal(await w.form.submit(), true, "default submit prevented");

  assert.deepEqual(w.calls.map((c) => `${c.method} ${c.url}`), [
    "GET /api/v1/submission",
    "POST /api/v1/tickets",
    "POST /api/v1/reports",
  ]);
  for (const c of w.calls) {
    assert.equal(c.init.credentials, "same-origin");
    assert.equal(c.init.redirect, "error");
    if (c.method === "POST") assert.equal(c.headers["X-CSRFToken"], "csrf-abc");
  }
  const tk = w.calls[1];
  assert.equal(tk.headers["Content-Type"], "application/json");
  const tkBody = JSON.parse(tk.init.body);
  assert.deepEqual(Object.keys(tkBody).sort(), ["pow_challenge", "pow_nonce"]);
  assert.equal(tkBody.pow_challenge, "glue-challenge");
  assert.ok(puzzlesOk("glue-challenge", tkBody.pow_nonce, 6, 4), "four puzzles of six bits");
  assert.ok(!puzzlesOk("glue-challenge", tkBody.pow_nonce.split(".").reverse().join("."), 6, 4));
  // The work ran in the PoW worker and the encryption in the encryption worker.
  const started = Object.fromEntries(FakeWorker.started.map((wk) => [wk.url.split("/").pop(), wk]));
  assert.deepEqual(Object.keys(started).sort(), ["crypto-worker.js", "pow-worker.js"]);
  assert.equal(FakeWorker.started.length, 2, "one of each");
  assert.equal(started["pow-worker.js"].terminated, true, "the PoW worker ends when done");

  const fd = w.body();
  assert.ok(fd instanceof FormData);
  assert.equal(fd.get("ticket"), "T-1");
  assert.equal(fd.get("category"), "bribery");
  assert.equal(fd.get("sector"), "land");
  assert.deepEqual(fd.getAll("excluded_units"), ["investigation"]);
  for (const s of [SECRET, "GLUE-SECRET-41", "PHOTO-BYTES-GLUE", "anh-chup", "2025-10-01", "ubnd"]) {
    assert.deepEqual(await findInFormData(fd, s), [], `no plaintext: ${s}`);
    for (const c of w.calls) assert.ok(!String(c.init.body ?? "").includes(s));
  }

  const caseIdentity = await decrypt(w.r1.identity, new Uint8Array(await fd.get("case_key_wrap").arrayBuffer()), "text");
  const report = await decrypt(caseIdentity, new Uint8Array(await fd.get("report").arrayBuffer()), "text");
  assert.deepEqual(JSON.parse(report.trimEnd()), {
    version: 1,
    answers: { category: "bribery", sector: "land", details: SECRET, agencies: ["ubnd"], when: "2025-10-01" },
    attachments: [{ name: "anh-chup.jpg", type: "image/jpeg", size: 16 }],
  });
  const [att] = fd.getAll("attachment");
  assert.equal(await decrypt(caseIdentity, new Uint8Array(await att.arrayBuffer()), "text"), "PHOTO-BYTES-GLUE");

  assert.equal(w.code.textContent, w.ticket.receipt);
  assert.equal(w.view.hidden, false);
  assert.equal(w.form.hidden, true);
  assert.equal(w.form.resetCalled, true, "plaintext cleared from the page");
  assert.equal(w.status.textContent, "");
});

test("report form: server error shows its message, nothing more is sent", async () => {
  const w = await world({ reportStatus: 400 });
  await w.form.submit();
  assert.deepEqual(w.calls.slice(0, 3).map((c) => `${c.method} ${c.url}`), [
    "GET /api/v1/submission",
    "POST /api/v1/tickets",
    "POST /api/v1/reports",
  ]);
  // Only a new ticket is prepared for the next try (its challenge first); nothing is resent.
  assert.deepEqual(w.calls.slice(3).map((c) => `${c.method} ${c.url}`), ["GET /api/v1/challenge"]);
  assert.equal(w.status.textContent, `${MSGS.msgFailed} Phiếu đã hết hạn.`);
  assert.equal(w.view.hidden, true);
  assert.equal(w.form.hidden, false);
  assert.equal(w.code.textContent, "");
  assert.equal(w.form.buttons[0].disabled, false, "submit button re-enabled");
  assert.equal(w.form.resetCalled, false, "the reporter's answers are kept for a retry");
});

test("report form: missing required answer and too-large file stop before encryption", async () => {
  const a = await world({ required: true });
  await a.form.submit();
  assert.ok(!a.calls.some((c) => c.url === "/api/v1/reports"));
  assert.equal(a.status.textContent, MSGS.msgRequired);
  assert.equal(focused, "agencies");
  assert.ok(!FakeWorker.started.some((wk) => wk.url.endsWith("crypto-worker.js")), "nothing encrypted");

  const b = await world({ bigFile: true });
  await b.form.submit();
  assert.ok(!b.calls.some((c) => c.url === "/api/v1/reports"));
  assert.equal(b.status.textContent, MSGS.msgTooLarge);
  assert.equal(b.form.buttons[0].disabled, false);
});

test("report form: network failure shows the failure text", async () => {
  const w = await world();
  mockFetch({});
  await w.form.submit();
  assert.equal(w.status.textContent, MSGS.msgFailed);
  assert.equal(w.view.hidden, true);
});

test("message form: encrypted to the case key, then reload", async () => {
  const caseKey = await keyPair();
  const controls = [
    input("textarea", "body", "Bổ sung: MSG-GLUE-SECRET"),
    input("file", "attachments", "", { files: [new File(["MSG-FILE"], "x.txt", { type: "text/plain" })] }),
    input("hidden", "csrf_token", "csrf-xyz"),
  ];
  const form = makeForm("message-form", { api: "/api/v1/", caseRecipient: caseKey.recipient, ...MSGS }, controls);
  const status = { id: "js-status", textContent: "" };
  let body = null;
  const calls = mockFetch({
    "GET /api/v1/challenge": () =>
      json(200, { challenge: "msg-challenge", difficulty: 8, puzzles: 2, bits: 7, expires_in: 600 }),
    "POST /api/v1/followup/messages": (call) => {
      body = call.init.body;
      return json(201, {});
    },
  });
  installDom([form, status]);
  await form.submit();
  assert.deepEqual(calls.map((c) => `${c.method} ${c.url}`), [
    "GET /api/v1/challenge",
    "POST /api/v1/followup/messages",
  ]);
  assert.equal(calls[1].headers["X-CSRFToken"], "csrf-xyz");
  assert.equal(calls[1].init.credentials, "same-origin");
  assert.deepEqual([...new Set(body.keys())], ["message", "attachment", "pow_challenge", "pow_nonce"]);
  assert.equal(body.get("pow_challenge"), "msg-challenge");
  assert.ok(puzzlesOk("msg-challenge", body.get("pow_nonce"), 7, 2), "a message pays its own proof of work");
  for (const s of ["MSG-GLUE-SECRET", "MSG-FILE", "x.txt"]) assert.deepEqual(await findInFormData(body, s), []);
  const plain = await decrypt(caseKey.identity, new Uint8Array(await body.get("message").arrayBuffer()), "text");
  assert.equal(JSON.parse(plain.trimEnd()).text, "Bổ sung: MSG-GLUE-SECRET");
  assert.equal(globalThis.location.reloaded, 1);

  // empty message: nothing sent
  const empty = makeForm("message-form", { api: "/api/v1", caseRecipient: caseKey.recipient, ...MSGS }, [
    input("textarea", "body", "  "),
    input("file", "attachments", "", { files: [] }),
  ]);
  const st2 = { id: "js-status", textContent: "" };
  const calls2 = mockFetch({});
  installDom([empty, st2]);
  await empty.submit();
  // Only the page's own early challenge request (the work starts as the page opens).
  assert.deepEqual(calls2.map((c) => `${c.method} ${c.url}`), ["GET /api/v1/challenge"]);
  assert.equal(st2.textContent, MSGS.msgRequired);
});

test("message form: the protection-request box travels as protection=yes, the text encrypted", async () => {
  const caseKey = await keyPair();
  const send = async (checked) => {
    const controls = [
      input("textarea", "body", "Bị trù dập: PROT-SECRET"),
      input("file", "attachments", "", { files: [] }),
      input("checkbox", "protection", "yes", { checked }),
      input("hidden", "csrf_token", "csrf-prot"),
    ];
    const form = makeForm("message-form", { api: "/api/v1/", caseRecipient: caseKey.recipient, ...MSGS }, controls);
    let body = null;
    mockFetch({
      "GET /api/v1/challenge": () =>
        json(200, { challenge: "prot-challenge", difficulty: 8, puzzles: 2, bits: 7, expires_in: 600 }),
      "POST /api/v1/followup/messages": (call) => {
        body = call.init.body;
        return json(201, {});
      },
    });
    installDom([form, { id: "js-status", textContent: "" }]);
    await form.submit();
    return body;
  };
  const flagged = await send(true);
  assert.equal(flagged.get("protection"), "yes");
  assert.deepEqual(await findInFormData(flagged, "PROT-SECRET"), []);
  const plain = await send(false);
  assert.equal(plain.get("protection"), null);
});

test("receipt form: proof of work, JSON open, then the case page", async () => {
  const receipt = "1111 2222 3333 4444 5555";
  const controls = [input("text", "receipt", receipt), input("hidden", "csrf_token", "csrf-rcp")];
  const form = makeForm("open-case-form", { api: "/api/v1", next: "/followup/case", ...MSGS }, controls);
  const status = { id: "js-status", textContent: "" };
  let sent = null;
  const calls = mockFetch({
    "GET /api/v1/challenge": () => json(200, { challenge: "open-challenge", difficulty: 8, expires_in: 600 }),
    "POST /api/v1/followup/open": (call) => {
      sent = JSON.parse(call.init.body);
      return json(200, { status: "opened" });
    },
  });
  installDom([form, status]);
  assert.equal(await form.submit(), true, "the plain form post is replaced");
  assert.deepEqual(calls.map((c) => `${c.method} ${c.url}`), [
    "GET /api/v1/challenge",
    "POST /api/v1/followup/open",
  ]);
  assert.equal(calls[1].headers["X-CSRFToken"], "csrf-rcp");
  assert.equal(calls[1].headers["Content-Type"], "application/json");
  assert.equal(calls[1].init.redirect, "error");
  assert.deepEqual(Object.keys(sent).sort(), ["pow_challenge", "pow_nonce", "receipt"]);
  assert.equal(sent.receipt, receipt);
  assert.ok(puzzlesOk("open-challenge", sent.pow_nonce, 8, 1), "no puzzle count: one puzzle");
  assert.deepEqual(globalThis.location.assigned, ["/followup/case"]);
  assert.equal(controls[0].value, "", "the receipt is cleared from the page");
  for (const c of calls) assert.ok(!c.url.includes("1111"), "the receipt is never in a URL");

  // A refused receipt: the server's words are shown, the page stays, nothing navigates.
  const form2 = makeForm("open-case-form", { api: "/api/v1", next: "/followup/case", ...MSGS }, [
    input("text", "receipt", "1111 2222 3333 4444 5556"),
  ]);
  const status2 = { id: "js-status", textContent: "" };
  mockFetch({
    "GET /api/v1/challenge": () => json(200, { challenge: "c2", difficulty: 4, expires_in: 600 }),
    "POST /api/v1/followup/open": () => json(400, { error: "invalid_receipt", message: "Mã có lỗi gõ." }),
  });
  installDom([form2, status2]);
  await form2.submit();
  assert.equal(status2.textContent, `${MSGS.msgFailed} Mã có lỗi gõ.`);
  assert.deepEqual(globalThis.location.assigned, []);
  assert.equal(form2.buttons[0].disabled, false);

  // Nothing typed: nothing sent.
  const form3 = makeForm("open-case-form", { api: "/api/v1", next: "/followup/case", ...MSGS }, [
    input("text", "receipt", "  "),
  ]);
  const status3 = { id: "js-status", textContent: "" };
  const calls3 = mockFetch({});
  installDom([form3, status3]);
  await form3.submit();
  assert.deepEqual(calls3.map((c) => `${c.method} ${c.url}`), ["GET /api/v1/challenge"]);
  assert.equal(status3.textContent, MSGS.msgRequired);
});
