// prepareReport / prepareMessage: real typage keys, round trips, age CLI interop,
// and a search for plaintext in everything that would be sent.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";

import { identityToRecipient } from "age-encryption";
import { buildMessagePayload, buildReportPayload, prepareMessage, prepareReport } from "../../assets/js/core.js";
import { ageCli, bytesOf, decrypt, findInFormData, keyPair, unpad } from "./helpers.mjs";

const SECRET_DETAIL = "Ông Trần Bí Mật nhận 500 triệu đồng tiền hối lộ SECRET-7f3a9c";
const SECRET_NAME = "Phó giám đốc Sở XYZ-SECRET-NAME";
const SECRET_FILE_TEXT = "ATTACHMENT-PLAINTEXT-91b2 biên bản họp kín";
const SECRET_FILENAME = "bien-ban-hop-kin-SECRET-FILENAME.txt";

async function fixture() {
  const [r1, r2, recovery, reporter, outsider] = await Promise.all([1, 2, 3, 4, 5].map(() => keyPair()));
  const info = {
    recipients: [r1.recipient, r2.recipient, recovery.recipient],
    recovery_recipient: recovery.recipient,
    units: [
      { slug: "intake", name: "Tiếp nhận", recipients: [r1.recipient, r2.recipient] },
      { slug: "investigation", name: "Điều tra", recipients: [r2.recipient, outsider.recipient] },
      { slug: "inspection", name: "Thanh tra", recipients: [] },
    ],
    questionnaire: { questions: [] },
    limits: { max_file_bytes: 10 << 20, max_report_bytes: 50 << 20, max_files: 10 },
    pow: { challenge: "c", difficulty: 1 },
    recipients_version: "a".repeat(64),
  };
  const ticket = {
    ticket: "tkt_0123456789abcdef",
    receipt: "1234-5678-9012-3456-7890",
    reporter_recipient: reporter.recipient,
    expires: "2026-01-01T00:10:00Z",
  };
  const answers = {
    category: "bribery",
    sector: "land_management",
    details: SECRET_DETAIL,
    persons: SECRET_NAME,
    agencies: ["so-tai-nguyen", "ubnd-quan"],
    when: "2025-11-02",
  };
  const big = randomBytes(200 * 1024 + 17); // several 64 KiB STREAM chunks
  const files = [
    new File([SECRET_FILE_TEXT], SECRET_FILENAME, { type: "text/plain" }),
    new File([big], "scan.bin", { type: "" }),
  ];
  return { r1, r2, recovery, reporter, outsider, info, ticket, answers, files, big };
}

test("prepareReport: fields, key wraps, round trip, no plaintext", async (t) => {
  const f = await fixture();
  const fd = await prepareReport({
    info: f.info,
    ticket: f.ticket,
    answers: f.answers,
    category: "bribery",
    sector: "land_management",
    excludedSlugs: ["investigation", "inspection"],
    files: f.files,
  });

  // --- the shape of the request
  const names = [...new Set([...fd.keys()])];
  assert.deepEqual(names.sort(), [
    "attachment",
    "case_key_wrap",
    "case_recipient",
    "category",
    "excluded_units",
    "recipients_version",
    "report",
    "sector",
    "staff_key_wrap",
    "staff_recipient",
    "ticket",
  ]);
  assert.equal(fd.get("ticket"), f.ticket.ticket);
  assert.equal(fd.get("category"), "bribery");
  assert.equal(fd.get("sector"), "land_management");
  assert.deepEqual(fd.getAll("excluded_units"), ["investigation", "inspection"]);
  assert.equal(fd.get("recipients_version"), "a".repeat(64), "sent back as received");
  const caseRecipient = fd.get("case_recipient");
  const staffRecipient = fd.get("staff_recipient");
  assert.match(caseRecipient, /^age1[a-z0-9]{58}$/);
  assert.match(staffRecipient, /^age1[a-z0-9]{58}$/);
  assert.notEqual(caseRecipient, staffRecipient);
  for (const name of ["report", "case_key_wrap", "staff_key_wrap", "attachment"]) {
    for (const part of fd.getAll(name)) {
      assert.equal(typeof part, "object", `${name} is a file part`);
      assert.equal(part.type, "application/octet-stream");
    }
  }
  assert.equal(fd.get("report").name, "report.age");
  assert.deepEqual(fd.getAll("attachment").map((p) => p.name), ["attachment-0.age", "attachment-1.age"]);
  for (const name of ["report", "case_key_wrap", "staff_key_wrap", "attachment"]) {
    for (const part of fd.getAll(name)) {
      const head = new TextDecoder().decode((await bytesOf(part)).subarray(0, 22));
      assert.equal(head, "age-encryption.org/v1\n", `${name} is a binary (not armored) age file`);
    }
  }

  // --- case key wrap: reporter, r1 and recovery can open it; r2 (excluded unit) cannot
  const caseWrap = await bytesOf(fd.get("case_key_wrap"));
  const caseIdentity = await decrypt(f.reporter.identity, caseWrap, "text");
  assert.match(caseIdentity, /^AGE-SECRET-KEY-1[0-9A-Z]+$/, "exactly the identity line, no newline");
  assert.equal(await identityToRecipient(caseIdentity), caseRecipient);
  assert.equal(await decrypt(f.r1.identity, caseWrap, "text"), caseIdentity);
  assert.equal(await decrypt(f.recovery.identity, caseWrap, "text"), caseIdentity);
  await assert.rejects(decrypt(f.r2.identity, caseWrap), "member of an excluded unit gets no key");
  await assert.rejects(decrypt(f.outsider.identity, caseWrap));

  // --- staff key wrap: r1 and recovery; not the reporter, not r2
  const staffWrap = await bytesOf(fd.get("staff_key_wrap"));
  const staffIdentity = await decrypt(f.r1.identity, staffWrap, "text");
  assert.match(staffIdentity, /^AGE-SECRET-KEY-1[0-9A-Z]+$/);
  assert.equal(await identityToRecipient(staffIdentity), staffRecipient);
  assert.equal(await decrypt(f.recovery.identity, staffWrap, "text"), staffIdentity);
  await assert.rejects(decrypt(f.reporter.identity, staffWrap), "reporter has no staff key");
  await assert.rejects(decrypt(f.r2.identity, staffWrap));

  // --- report and attachments: case key only
  const report = await bytesOf(fd.get("report"));
  const plain = await decrypt(caseIdentity, report);
  assert.equal(plain.length % 1024, 0);
  const payload = JSON.parse(new TextDecoder().decode(plain).trimEnd());
  assert.deepEqual(payload, {
    version: 1,
    answers: f.answers,
    attachments: [
      { name: SECRET_FILENAME, type: "text/plain", size: Buffer.byteLength(SECRET_FILE_TEXT, "utf8") },
      { name: "scan.bin", type: "application/octet-stream", size: f.big.length },
    ],
  });
  await assert.rejects(decrypt(f.r1.identity, report), "reviewers need the case key");
  await assert.rejects(decrypt(staffIdentity, report), "staff key does not open the report");
  // Attachments are padded to their PADMÉ length with zero bytes (padding.js); the true
  // size is the one listed in the encrypted report.
  const [a0, a1] = fd.getAll("attachment");
  const text0 = unpad(await decrypt(caseIdentity, await bytesOf(a0)), payload.attachments[0].size);
  assert.equal(new TextDecoder().decode(text0), SECRET_FILE_TEXT);
  const big1 = unpad(await decrypt(caseIdentity, await bytesOf(a1)), f.big.length);
  assert.deepEqual(Buffer.from(big1), f.big);
  assert.ok((await bytesOf(a1)).length > f.big.length + 1024, "the padding is inside the ciphertext");

  // --- no plaintext anywhere in what would be sent (with a positive control)
  const payloadBytes = buildReportPayload(f.answers, f.files);
  const control = new FormData();
  control.append("report", new Blob([payloadBytes]), "report.json");
  control.append("attachment", f.files[0], f.files[0].name);
  for (const secret of [SECRET_DETAIL, SECRET_NAME, "so-tai-nguyen", SECRET_FILE_TEXT, SECRET_FILENAME]) {
    assert.notDeepEqual(await findInFormData(control, secret), [], `control finds ${secret}`);
    assert.deepEqual(await findInFormData(fd, secret), [], `no plaintext: ${secret}`);
  }
  // ...and no private key either
  for (const secret of [caseIdentity, staffIdentity, "AGE-SECRET-KEY"]) {
    assert.deepEqual(await findInFormData(fd, secret), []);
  }

  // --- interop with the age command-line tool
  const age = ageCli();
  if (!age) {
    t.diagnostic("age CLI not found: interop part skipped");
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "lc-age-"));
  try {
    const put = (name, data) => {
      const p = join(dir, name);
      writeFileSync(p, data);
      return p;
    };
    const r1Key = put("r1.key", `${f.r1.identity}\n`);
    const reporterKey = put("reporter.key", `${f.reporter.identity}\n`);
    const recoveryKey = put("recovery.key", `${f.recovery.identity}\n`);
    const run = (key, file) => execFileSync(age, ["-d", "-i", key, file]);
    const wrapFile = put("case_key_wrap.age", caseWrap);
    const fromCli = run(r1Key, wrapFile).toString("utf8");
    assert.equal(fromCli, caseIdentity);
    assert.equal(run(reporterKey, wrapFile).toString("utf8"), caseIdentity);
    assert.equal(run(recoveryKey, put("staff_key_wrap.age", staffWrap)).toString("utf8"), staffIdentity);
    const caseKey = put("case.key", `${fromCli}\n`);
    const cliReport = run(caseKey, put("report.age", report));
    assert.deepEqual(JSON.parse(cliReport.toString("utf8").trimEnd()), payload);
    const cliText = unpad(run(caseKey, put("a0.age", await bytesOf(a0))), payload.attachments[0].size);
    assert.equal(Buffer.from(cliText).toString("utf8"), SECRET_FILE_TEXT);
    assert.deepEqual(Buffer.from(unpad(run(caseKey, put("a1.age", await bytesOf(a1))), f.big.length)), f.big);
    assert.throws(() => execFileSync(age, ["-d", "-i", put("r2.key", `${f.r2.identity}\n`), wrapFile], { stdio: "pipe" }));
    t.diagnostic(`age CLI interop checked with ${age}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("prepareReport: every report gets fresh keys; bad input is refused", async () => {
  const f = await fixture();
  const args = { info: f.info, ticket: f.ticket, answers: { category: "x" }, category: "x", sector: "", files: [] };
  const one = await prepareReport(args);
  const two = await prepareReport(args);
  assert.notEqual(one.get("case_recipient"), two.get("case_recipient"));
  assert.notEqual(one.get("staff_recipient"), two.get("staff_recipient"));
  assert.deepEqual(one.getAll("attachment"), []);
  assert.deepEqual(one.getAll("excluded_units"), []);
  assert.equal(one.get("sector"), "");
  await assert.rejects(prepareReport({ ...args, ticket: { ...f.ticket, reporter_recipient: "age1bad" } }), /X25519/);
  await assert.rejects(prepareReport({ ...args, ticket: { ...f.ticket, ticket: "" } }), /ticket/);
  await assert.rejects(prepareReport({ ...args, excludedSlugs: ["nope"] }), /unknown unit/);
  await assert.rejects(prepareReport({ ...args, answers: { q: 5 } }), TypeError);
});

test("prepareMessage: message and attachments encrypted to the case key only", async () => {
  const caseKey = await keyPair();
  const other = await keyPair();
  const text = "Tôi có thêm bằng chứng MESSAGE-SECRET-55";
  const files = [new File(["FILE-SECRET-66"], "them-bang-chung.txt", { type: "text/plain" })];
  const after = "8070450532247928832";
  const fd = await prepareMessage({ caseRecipient: caseKey.recipient, text, files, after });
  assert.deepEqual([...new Set(fd.keys())], ["message", "attachment"]);
  const message = fd.get("message");
  assert.equal(message.name, "message.age");
  assert.equal(message.type, "application/octet-stream");
  const plain = await decrypt(caseKey.identity, await bytesOf(message));
  assert.deepEqual(plain, buildMessagePayload(text, files, after));
  assert.deepEqual(JSON.parse(new TextDecoder().decode(plain).trimEnd()), {
    version: 1,
    text,
    attachments: [{ name: "them-bang-chung.txt", type: "text/plain", size: 14 }],
    after,
  });
  // The order of the thread travels only inside the ciphertext.
  assert.deepEqual(await findInFormData(fd, after), []);
  const [att] = fd.getAll("attachment");
  assert.equal(att.name, "attachment-0.age");
  const attPlain = unpad(await decrypt(caseKey.identity, await bytesOf(att)), 14);
  assert.equal(new TextDecoder().decode(attPlain), "FILE-SECRET-66");
  await assert.rejects(decrypt(other.identity, await bytesOf(message)));
  for (const secret of ["MESSAGE-SECRET-55", "FILE-SECRET-66", "them-bang-chung"]) {
    assert.deepEqual(await findInFormData(fd, secret), []);
  }
  const none = await prepareMessage({ caseRecipient: caseKey.recipient, text: "ok" });
  assert.deepEqual(none.getAll("attachment"), []);
  await assert.rejects(prepareMessage({ caseRecipient: "age1pq1xyz", text: "x" }), /X25519/);
});
