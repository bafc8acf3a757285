// postReport: when the server answers 409 recipients_changed (the readers changed
// since the browser fetched them), the browser fetches the readers again and makes
// new key wraps for them; a newcomer's key is in the wraps that are finally sent.
import { test } from "node:test";
import assert from "node:assert/strict";

import { postReport, prepareReport, RECIPIENTS_CHANGED } from "../../assets/js/core.js";
import { bytesOf, decrypt, keyPair } from "./helpers.mjs";

function info(readers, recovery, version) {
  return {
    recipients: [...readers.map((r) => r.recipient), recovery.recipient],
    recovery_recipient: recovery.recipient,
    recipients_version: version,
    units: [{ slug: "inspection", name: "Thanh tra thành phố", recipients: [] }],
  };
}

function json(status, body) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}

async function fixture() {
  const [old, newcomer, recovery, reporter] = await Promise.all([1, 2, 3, 4].map(() => keyPair()));
  const ticket = { ticket: "tkt_x", receipt: "1", reporter_recipient: reporter.recipient };
  const prepare = (fresh) =>
    prepareReport({
      info: fresh,
      ticket,
      answers: { details: "Biên bản họp ngày 2/3 về đất đai ở phường Hưng Lợi" },
      category: "corruption",
      sector: "land_construction",
      excludedSlugs: [],
      files: [],
    });
  return { old, newcomer, recovery, prepare };
}

test("postReport wraps again for the current readers after a 409", async () => {
  const f = await fixture();
  const stale = info([f.old], f.recovery, "v-old");
  const current = info([f.old, f.newcomer], f.recovery, "v-new");
  const sent = [];
  let fetched = 0;
  const res = await postReport({
    info: stale,
    prepare: f.prepare,
    post: async (body) => {
      sent.push(body);
      return body.get("recipients_version") === "v-new"
        ? json(201, { status: "stored" })
        : json(409, { error: RECIPIENTS_CHANGED, message: "Người nhận đã thay đổi" });
    },
    fetchInfo: async () => {
      fetched += 1;
      return current;
    },
  });
  assert.equal(res.status, 201);
  assert.equal(fetched, 1);
  assert.deepEqual(sent.map((b) => b.get("recipients_version")), ["v-old", "v-new"]);
  // The first wraps did not open for the newcomer; the ones that were stored do.
  const [first, last] = sent.map((b) => b.get("case_key_wrap"));
  await assert.rejects(decrypt(f.newcomer.identity, await bytesOf(first)));
  const key = await decrypt(f.newcomer.identity, await bytesOf(last), "text");
  assert.match(key, /^AGE-SECRET-KEY-1/);
  assert.equal(await decrypt(f.old.identity, await bytesOf(last), "text"), key);
});

test("postReport gives up after its attempts and leaves other errors alone", async () => {
  const f = await fixture();
  const stale = info([f.old], f.recovery, "v-old");
  let posts = 0;
  const always409 = await postReport({
    info: stale,
    prepare: f.prepare,
    post: async () => {
      posts += 1;
      return json(409, { error: RECIPIENTS_CHANGED, message: "x" });
    },
    fetchInfo: async () => stale,
    attempts: 3,
  });
  assert.equal(always409.status, 409);
  assert.equal(posts, 3);
  // The body of the last answer is still readable by the caller (its message is shown).
  assert.equal((await always409.json()).error, RECIPIENTS_CHANGED);

  let fetched = 0;
  const other = await postReport({
    info: stale,
    prepare: f.prepare,
    post: async () => json(409, { error: "something_else", message: "x" }),
    fetchInfo: async () => {
      fetched += 1;
      return stale;
    },
  });
  assert.equal(other.status, 409);
  assert.equal(fetched, 0);
  const bad = await postReport({
    info: stale,
    prepare: f.prepare,
    post: async () => json(400, { error: "invalid_ticket", message: "x" }),
    fetchInfo: async () => assert.fail("not refetched on a 400"),
  });
  assert.equal(bad.status, 400);
});
