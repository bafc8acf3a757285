// The named track in the browser: the identity is sealed to a fresh key whose wrap
// opens for the custodians and the recovery key only (app/cases/identity.py).
import { test } from "node:test";
import assert from "node:assert/strict";

import { identityToRecipient } from "age-encryption";
import { identityRecipients, prepareReport } from "../../assets/js/core.js";
import { bytesOf, decrypt, findInFormData, keyPair } from "./helpers.mjs";

const CANARY = "CANARY-js-danh-tinh-44e1";
const IDENTITY = {
  full_name: `  Nguyễn Thị Ủ  ${CANARY}`,
  id_number: "092187001234",
  address: "Đường Trần Hưng Đạo, phường Ninh Kiều",
  contact: "0901 234 567",
};

async function setup() {
  const [member, head, recovery, reporter] = await Promise.all([1, 2, 3, 4].map(() => keyPair()));
  const info = {
    recipients: [member.recipient, head.recipient, recovery.recipient],
    recovery_recipient: recovery.recipient,
    custodian_recipients: [head.recipient],
    units: [],
    recipients_version: "b".repeat(64),
  };
  const ticket = { ticket: "tkt_named", receipt: "1", reporter_recipient: reporter.recipient };
  return { member, head, recovery, reporter, info, ticket };
}

test("prepareReport seals the identity for custodians and recovery only", async () => {
  const f = await setup();
  const fd = await prepareReport({
    info: f.info,
    ticket: f.ticket,
    answers: { category: "waste", details: "Lãng phí" },
    category: "waste",
    sector: "",
    identity: IDENTITY,
  });
  assert.equal(fd.get("track"), "named");
  const wrap = await bytesOf(fd.get("identity_key_wrap"));
  const sealedFile = await bytesOf(fd.get("identity"));
  // An ordinary member, the reporter and the case key open nothing.
  await assert.rejects(decrypt(f.member.identity, wrap));
  await assert.rejects(decrypt(f.reporter.identity, wrap));
  const caseKey = await decrypt(f.member.identity, await bytesOf(fd.get("case_key_wrap")), "text");
  await assert.rejects(decrypt(caseKey, sealedFile));
  // The custodian and the recovery key do (positive control).
  const key = await decrypt(f.head.identity, wrap, "text");
  assert.equal(await decrypt(f.recovery.identity, wrap, "text"), key);
  assert.equal(await identityToRecipient(key), fd.get("identity_recipient"));
  const padded = await decrypt(key, sealedFile);
  assert.equal(padded.length, 2048, "padded like the server pads it");
  const plain = JSON.parse(new TextDecoder().decode(padded).trim());
  assert.equal(plain.full_name, `Nguyễn Thị Ủ ${CANARY}`);
  assert.equal(plain.address, IDENTITY.address);
  // Nothing sent carries the canary in clear.
  assert.deepEqual(await findInFormData(fd, CANARY), []);
});

test("an anonymous report sends no identity parts", async () => {
  const f = await setup();
  const fd = await prepareReport({ info: f.info, ticket: f.ticket, answers: {}, category: "waste", sector: "" });
  for (const name of ["track", "identity", "identity_key_wrap", "identity_recipient"]) {
    assert.equal(fd.get(name), null, name);
  }
});

test("identityRecipients: custodians and recovery, never the other readers", async () => {
  const f = await setup();
  assert.deepEqual(identityRecipients(f.info), [f.head.recipient, f.recovery.recipient]);
  assert.throws(() => identityRecipients({ ...f.info, custodian_recipients: undefined }));
});
