// PADMÉ padding of attachments (assets/js/padding.js). The same numbers as the
// server's crypto/padding.py are checked from Python (tests/crypto/test_padding.py);
// here: the definition, its properties, and what prepareMessage sends.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, randomInt } from "node:crypto";

import { prepareMessage } from "../../assets/js/core.js";
import { padFile, padmeLength } from "../../assets/js/padding.js";
import { bytesOf, decrypt, keyPair, unpad } from "./helpers.mjs";

/** PADMÉ straight from the paper's definition, in BigInt (no float, no 32-bit ops). */
function reference(length) {
  const l = BigInt(length);
  if (l < 2n) return l;
  const e = BigInt(l.toString(2).length - 1);
  const s = BigInt(e.toString(2).length);
  const mask = (1n << (e - s)) - 1n;
  return (l + mask) & ~mask;
}

function samples() {
  const out = [];
  for (let n = 0; n <= 70000; n++) out.push(n);
  for (let k = 1; k <= 53; k++) {
    const p = 2 ** k;
    for (const d of [-2, -1, 0, 1, 2]) if (p + d >= 0 && Number.isSafeInteger(p + d)) out.push(p + d);
  }
  for (let i = 0; i < 5000; i++) out.push(randomInt(0, 2 ** 48 - 1) * 2 ** randomInt(0, 5));
  return out.filter((n) => Number.isSafeInteger(n));
}

test("padmeLength matches the definition (BigInt) from 0 to 2^53", () => {
  for (const n of samples()) assert.equal(BigInt(padmeLength(n)), reference(n), `length ${n}`);
});

test("padmeLength: never shorter, never decreasing, at most 11.7 % longer, few buckets", () => {
  let previous = 0;
  for (let n = 0; n <= 70000; n++) {
    const p = padmeLength(n);
    assert.ok(p >= n && p >= previous, `length ${n}`);
    assert.ok(p - n <= n * 0.117, `overhead of ${n}`); // worst case: 129 -> 144
    assert.equal(padmeLength(p), p, "a padded length pads to itself");
    previous = p;
  }
  // The 65536 lengths from 2^16 to 2^17 - 1 (E = 16, S = 5) pad to 2^S + 1 = 33 lengths:
  // 2^16 + k * 2^11 for k = 0..32.
  const buckets = new Set();
  for (let n = 2 ** 16; n < 2 ** 17; n++) buckets.add(padmeLength(n));
  assert.equal(buckets.size, 33);
  for (const bad of [-1, 1.5, NaN, 2 ** 53, "12"]) assert.throws(() => padmeLength(bad), RangeError);
});

test("padFile appends zero bytes up to the PADMÉ length", async () => {
  const data = randomBytes(1000);
  const padded = padFile(new Blob([data]));
  assert.equal(padded.size, 1024);
  const bytes = new Uint8Array(await padded.arrayBuffer());
  assert.deepEqual(Buffer.from(bytes.subarray(0, 1000)), data);
  assert.ok(bytes.subarray(1000).every((b) => b === 0));
  const exact = new Blob([randomBytes(1024)]);
  assert.equal(padFile(exact), exact, "already a PADMÉ length: unchanged");
});

test("two attachments of different sizes in one bucket are sent as equally long age files", async () => {
  const caseKey = await keyPair();
  const sizes = [70000, 71000]; // both pad to 71680 (E = 16, S = 5: multiples of 2048)
  assert.equal(padmeLength(sizes[0]), padmeLength(sizes[1]));
  const files = sizes.map((n, i) => new File([randomBytes(n)], `biên bản họp ${i}.pdf`, { type: "application/pdf" }));
  const fd = await prepareMessage({ caseRecipient: caseKey.recipient, text: "Gửi thêm tài liệu", files });
  const sent = fd.getAll("attachment");
  assert.equal(sent.length, 2);
  assert.equal(sent[0].size, sent[1].size, "same ciphertext length");
  for (const [i, part] of sent.entries()) {
    const plain = await decrypt(caseKey.identity, await bytesOf(part));
    const original = new Uint8Array(await files[i].arrayBuffer());
    assert.deepEqual(unpad(plain, sizes[i]), original);
  }
  // Control: sizes in different buckets give different lengths.
  const other = await prepareMessage({
    caseRecipient: caseKey.recipient,
    text: "x",
    files: [new File([randomBytes(75000)], "khác.pdf")],
  });
  assert.notEqual(other.get("attachment").size, sent[0].size);
});
