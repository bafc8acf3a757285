// padJson, payload builders, proof of work, wrapRecipients: no crypto keys needed.
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  buildMessagePayload,
  buildReportPayload,
  leadingZeroBits,
  padJson,
  solvePow,
  wrapRecipients,
} from "../../assets/js/core.js";
import { keyPair, powOk } from "./helpers.mjs";

const text = new TextDecoder("utf-8", { fatal: true });

test("padJson pads to a multiple of 1024 with spaces, JSON stays valid", () => {
  const cases = [
    {},
    { a: 1 },
    { name: "Nguyễn Thị Hương", note: "tham nhũng, lãng phí, tiêu cực" },
    { big: "x".repeat(5000) },
    { list: Array.from({ length: 300 }, (_, i) => `mục ${i}`) },
  ];
  for (const obj of cases) {
    const out = padJson(obj);
    assert.ok(out instanceof Uint8Array);
    assert.ok(out.length > 0);
    assert.equal(out.length % 1024, 0, `length ${out.length}`);
    const json = new TextEncoder().encode(JSON.stringify(obj));
    assert.ok(out.length - json.length < 1024, "pads only up to the next multiple");
    assert.deepEqual(out.subarray(0, json.length), json);
    assert.ok(out.subarray(json.length).every((b) => b === 0x20), "padding is ASCII spaces");
    assert.deepEqual(JSON.parse(text.decode(out).trimEnd()), obj);
  }
});

test("padJson adds nothing when already a multiple of 1024", () => {
  const obj = { a: "x".repeat(1024 - '{"a":""}'.length) };
  const out = padJson(obj);
  assert.equal(out.length, 1024);
  assert.equal(out[1023], 0x7d, "ends with the closing brace, no padding");
  assert.equal(text.decode(out), JSON.stringify(obj));
  // two bytes per "ễ": multi-byte characters count as bytes, not code units
  const obj2 = { a: "ễ".repeat(400) };
  assert.equal(padJson(obj2).length, 2048);
});

test("buildReportPayload: version, answers, attachments in order", () => {
  const files = [
    new File([new Uint8Array(10)], "hoá đơn.pdf", { type: "application/pdf" }),
    new File(["abc"], "ghi chú", { type: "" }),
  ];
  const answers = { category: "bribery", sector: "land", details: "Chi tiết", agencies: ["a", "b"] };
  const out = buildReportPayload(answers, files);
  assert.equal(out.length % 1024, 0);
  const parsed = JSON.parse(text.decode(out).trimEnd());
  assert.deepEqual(parsed, {
    version: 1,
    answers,
    attachments: [
      { name: "hoá đơn.pdf", type: "application/pdf", size: 10 },
      { name: "ghi chú", type: "application/octet-stream", size: 3 },
    ],
  });
  assert.deepEqual(Object.keys(parsed), ["version", "answers", "attachments"]);
  assert.deepEqual(JSON.parse(text.decode(buildReportPayload({}, [])).trimEnd()), {
    version: 1,
    answers: {},
    attachments: [],
  });
  assert.throws(() => buildReportPayload({ q: 1 }, []), TypeError);
  assert.throws(() => buildReportPayload({ q: ["a", 2] }, []), TypeError);
  assert.throws(() => buildReportPayload(null, []), TypeError);
});

test("buildMessagePayload: version, text, attachments", () => {
  const out = buildMessagePayload("Xin chào", [new File(["12345"], "a.txt", { type: "text/plain" })]);
  assert.equal(out.length, 1024);
  assert.deepEqual(JSON.parse(text.decode(out).trimEnd()), {
    version: 1,
    text: "Xin chào",
    attachments: [{ name: "a.txt", type: "text/plain", size: 5 }],
    after: null,
  });
  assert.throws(() => buildMessagePayload(undefined, []), TypeError);
});

test("buildMessagePayload: after is a message id kept as digits, anything else is null", () => {
  const after = (value) => JSON.parse(text.decode(buildMessagePayload("Dạ", [], value)).trimEnd()).after;
  // 63-bit ids do not survive a JavaScript number: the string must come through whole.
  assert.equal(after("9223372036854775807"), "9223372036854775807");
  assert.equal(after("42"), "42");
  for (const bad of [null, undefined, "", "0", "-1", "12a", "1".repeat(20), 42, "4 2"]) {
    assert.equal(after(bad), null, String(bad));
  }
});

test("leadingZeroBits", () => {
  assert.equal(leadingZeroBits(Uint8Array.of(0x80)), 0);
  assert.equal(leadingZeroBits(Uint8Array.of(0x01)), 7);
  assert.equal(leadingZeroBits(Uint8Array.of(0, 0, 0x10, 0xff)), 19);
  assert.equal(leadingZeroBits(new Uint8Array(4)), 32);
});

test("solvePow finds a nonce the server accepts; other nonces fail", async () => {
  const challenge = "c2VydmVyLWNoYWxsZW5nZQ.1767225600.sig";
  const difficulty = 12;
  let progress = 0;
  const nonce = await solvePow(challenge, difficulty, { onProgress: (n) => (progress = n), batchSize: 500 });
  assert.match(nonce, /^(0|[1-9][0-9]*)$/);
  assert.ok(powOk(challenge, nonce, difficulty), "found nonce verifies with node:crypto");
  // The search goes upwards from 0, so every smaller nonce is a wrong one.
  const n = Number(nonce);
  assert.ok(n > 0, "this challenge needs more than one attempt");
  assert.ok(!powOk(challenge, String(n - 1), difficulty), "a wrong nonce fails the check");
  for (let i = Math.max(0, n - 200); i < n; i++) assert.ok(!powOk(challenge, String(i), difficulty));
  assert.ok(!powOk("another-challenge", nonce, 32), "nonce is bound to the challenge");
  if (n >= 500) assert.ok(progress >= 500, "progress reported between batches");
});

test("solvePow hashes the challenge as UTF-8 and works at several difficulties", async () => {
  for (const [challenge, difficulty] of [["", 0], ["Tiếng Việt: tham nhũng", 10], ["a.b.c", 14], ["x", 1]]) {
    const nonce = await solvePow(challenge, difficulty);
    assert.ok(powOk(challenge, nonce, difficulty), `${challenge}/${difficulty}`);
  }
  assert.equal(await solvePow("anything", 0), "0");
});

test("solvePow yields to the event loop and honours an AbortSignal", async () => {
  const ctl = new AbortController();
  let ticks = 0;
  const timer = setInterval(() => {
    ticks++;
    if (ticks === 3) ctl.abort(new Error("stop"));
  }, 1);
  await assert.rejects(solvePow("x", 64, { signal: ctl.signal, batchSize: 2000 }), /stop/);
  clearInterval(timer);
  assert.ok(ticks >= 3, "timers ran while searching");
  await assert.rejects(solvePow("x", 300), RangeError);
  await assert.rejects(solvePow(42, 1), TypeError);
});

test("wrapRecipients drops members of excluded units, always keeps recovery", async () => {
  const [a, b, c, d, rec] = await Promise.all([1, 2, 3, 4, 5].map(() => keyPair()));
  const info = {
    recipients: [a.recipient, b.recipient, c.recipient, rec.recipient],
    recovery_recipient: rec.recipient,
    units: [
      { slug: "intake", name: "Intake", recipients: [a.recipient, b.recipient, c.recipient] },
      { slug: "inspection", name: "Inspection", recipients: [b.recipient, d.recipient] },
      { slug: "oversight", name: "Oversight", recipients: [c.recipient, rec.recipient] },
    ],
  };
  assert.deepEqual(wrapRecipients(info, []), [a.recipient, b.recipient, c.recipient, rec.recipient]);
  // b is in intake AND inspection: excluding inspection removes b.
  assert.deepEqual(wrapRecipients(info, ["inspection"]), [a.recipient, c.recipient, rec.recipient]);
  // recovery is listed in oversight, but is never dropped.
  assert.deepEqual(wrapRecipients(info, ["oversight"]), [a.recipient, b.recipient, rec.recipient]);
  assert.deepEqual(wrapRecipients(info, ["inspection", "oversight"]), [a.recipient, rec.recipient]);
  assert.deepEqual(wrapRecipients(info, ["intake"]), [rec.recipient]);
  // recovery missing from recipients: still added
  assert.deepEqual(
    wrapRecipients({ ...info, recipients: [a.recipient, a.recipient] }, []),
    [a.recipient, rec.recipient],
  );
  assert.throws(() => wrapRecipients(info, ["no-such-unit"]), /unknown unit/);
  assert.throws(() => wrapRecipients({ ...info, recovery_recipient: "" }, []), /recovery/);
  assert.throws(() => wrapRecipients({ ...info, recipients: ["age1notakey"] }, []), /X25519/);
});
