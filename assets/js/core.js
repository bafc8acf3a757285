// Liêm Chính intake: browser-side cryptography, free of the DOM.
//
// Everything here runs unchanged in a browser (bundled by esbuild into
// app/static/js/intake.js) and under Node 20 (tests/js/). It uses typage
// (npm "age-encryption") for age v1 files with X25519 recipients. In the
// browser it runs in the encryption worker (crypto-worker.js), off the page's
// main thread; the proof of work is in pow.js.
//
// What leaves the browser (see docs in DESIGN.md, "Cryptography"):
//   * the report, every attachment and every follow-up message: age files
//     encrypted to the case key alone;
//   * the case key's private half ("case_key_wrap"): an age file encrypted to
//     the intake reviewers (minus the members of units the reporter excluded),
//     the offline recovery key and the reporter's receipt-derived key;
//   * the staff key's private half ("staff_key_wrap"): the same minus the
//     reporter;
//   * for a named denunciation only: the identity ("identity"), an age file
//     encrypted to a fresh identity key alone, and that key's private half
//     ("identity_key_wrap") encrypted to the intake unit's identity custodians
//     and the recovery key ONLY - never to the case key, the staff key, the
//     reporter or the other readers (app/cases/identity.py);
//   * in clear: ticket, category, sector, excluded unit slugs, the track, the
//     public keys and the recipients version (which reader sets the wraps were
//     made for, as the server described them). Nothing else.
//
// Plaintext is padded with spaces to a multiple of 1024 bytes so that the
// size of the stored report says little about its content. Attachments are
// padded with zero bytes to their PADMÉ length (padding.js); their true size
// is listed only inside the encrypted report or message.

import { Encrypter, generateX25519Identity, identityToRecipient } from "age-encryption";
import { padFile } from "./padding.js";

export const PAYLOAD_VERSION = 1;
export const PAD_BLOCK = 1024;
// The sealed identity is padded like the server pads it (app/cases/identity.py PAD_TO),
// so its size tells neither the length of a name nor which path sealed it.
export const IDENTITY_PAD_BLOCK = 2048;
const OCTET_STREAM = "application/octet-stream";

// An X25519 age recipient: "age1" + 58 lower-case bech32 characters. Hybrid
// (age1pq1…) and tag recipients are longer and are refused on purpose: the
// server side implements X25519 only.
const X25519_RECIPIENT = /^age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}$/;

const utf8 = new TextEncoder();

// ---------------------------------------------------------------- proof of work
// The search lives in pow.js (the PoW worker's only import); re-exported here.
export { leadingZeroBits, solvePow, solvePuzzles } from "./pow.js";

// ---------------------------------------------------------------- payloads

/** UTF-8 JSON of `obj`, padded with ASCII spaces up to the next multiple of `block` bytes. */
export function padJson(obj, block = PAD_BLOCK) {
  const json = utf8.encode(JSON.stringify(obj));
  const size = Math.ceil(json.length / block) * block;
  if (size === json.length) return json;
  const out = new Uint8Array(size);
  out.set(json);
  out.fill(0x20, json.length);
  return out;
}

/** {name, type, size} of each file, in the order the attachments are sent. */
export function describeFiles(files) {
  return Array.from(files || [], (f) => ({
    name: String(f.name ?? ""),
    type: f.type ? String(f.type) : OCTET_STREAM,
    size: Number(f.size),
  }));
}

function checkAnswers(answers) {
  if (answers === null || typeof answers !== "object" || Array.isArray(answers)) {
    throw new TypeError("answers must be an object");
  }
  const out = {};
  for (const [id, value] of Object.entries(answers)) {
    if (typeof value === "string") {
      out[id] = value;
    } else if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
      out[id] = value.slice();
    } else {
      throw new TypeError(`answer ${JSON.stringify(id)} must be a string or an array of strings`);
    }
  }
  return out;
}

/** The padded plaintext of a report: {"version":1,"answers":{…},"attachments":[…]}. */
export function buildReportPayload(answers, files) {
  return padJson({
    version: PAYLOAD_VERSION,
    answers: checkAnswers(answers),
    attachments: describeFiles(files),
  });
}

// A message id: decimal digits, kept as a string (ids are 63-bit; a JavaScript
// number would round them).
const MESSAGE_ID = /^[1-9][0-9]{0,18}$/;

/**
 * The padded plaintext of a follow-up message:
 * {"version":1,"text":"…","attachments":[…],"after":"…"|null}. `after` is the id of
 * the newest message on the page when the reporter wrote (the page's
 * data-after attribute): it orders the thread from inside the encrypted message,
 * since nothing in clear may (app/cases/thread.py). Anything but an id gives null.
 */
export function buildMessagePayload(text, files, after = null) {
  if (typeof text !== "string") throw new TypeError("text must be a string");
  return padJson({
    version: PAYLOAD_VERSION,
    text,
    attachments: describeFiles(files),
    after: typeof after === "string" && MESSAGE_ID.test(after) ? after : null,
  });
}

// ---------------------------------------------------------------- recipients

function checkRecipient(r, what) {
  if (typeof r !== "string" || !X25519_RECIPIENT.test(r)) {
    throw new Error(`${what}: not an X25519 age recipient`);
  }
  return r;
}

/**
 * Who receives the key wraps: `info.recipients` (the intake unit) minus every
 * member of every excluded unit — a reviewer who belongs to an excluded unit
 * is dropped even if they are also in intake — plus, always, the offline
 * recovery key. Unknown unit slugs are an error: silently failing to exclude
 * would hand the report to people the reporter chose to keep out.
 */
export function wrapRecipients(info, excludedSlugs) {
  if (!info || !Array.isArray(info.recipients)) throw new Error("submission info: no recipients");
  const recovery = checkRecipient(info.recovery_recipient, "recovery_recipient");
  const units = Array.isArray(info.units) ? info.units : [];
  const excluded = new Set();
  for (const slug of excludedSlugs || []) {
    const unit = units.find((u) => u && u.slug === slug);
    if (!unit) throw new Error(`unknown unit ${JSON.stringify(slug)}`);
    for (const r of unit.recipients || []) excluded.add(r);
  }
  const out = [];
  for (const r of info.recipients) {
    checkRecipient(r, "recipients");
    if (r !== recovery && !excluded.has(r) && !out.includes(r)) out.push(r);
  }
  out.push(recovery);
  return out;
}

// ---------------------------------------------------------------- encryption

async function encryptBytes(recipients, bytes) {
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(checkRecipient(r, "recipient"));
  return await e.encrypt(bytes);
}

/** A stream that passes `source` through and calls `onBytes(total so far)`. */
function counted(source, onBytes) {
  let seen = 0;
  return source.pipeThrough(
    new TransformStream({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        onBytes(seen);
        controller.enqueue(chunk);
      },
    }),
  );
}

/**
 * Pad a File/Blob (padding.js) and encrypt it to `recipient`, streaming; resolves to a
 * Blob. `onBytes(done, total)`: padded plaintext bytes read so far, as encryption goes.
 */
async function encryptAttachment(recipient, blob, onBytes) {
  const e = new Encrypter();
  e.addRecipient(checkRecipient(recipient, "recipient"));
  const padded = padFile(blob);
  const source = onBytes ? counted(padded.stream(), (n) => onBytes(n, padded.size)) : padded.stream();
  const stream = await e.encrypt(source);
  return await new Response(stream).blob();
}

function attachmentProgress(onProgress, index) {
  return onProgress ? (done, total) => onProgress({ file: index, done, total }) : undefined;
}

/** A Blob of type application/octet-stream (bytes or another Blob). */
function octets(data) {
  return new Blob([data], { type: OCTET_STREAM });
}

async function newKeyPair() {
  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  return { identity, recipient };
}

/**
 * Who may open a named report's identity key: the custodians listed by
 * /submission and the recovery key. Nobody else, whatever else `info` lists.
 */
export function identityRecipients(info) {
  if (!info || !Array.isArray(info.custodian_recipients)) throw new Error("submission info: no custodian_recipients");
  const recovery = checkRecipient(info.recovery_recipient, "recovery_recipient");
  const out = [];
  for (const r of info.custodian_recipients) {
    checkRecipient(r, "custodian_recipients");
    if (r !== recovery && !out.includes(r)) out.push(r);
  }
  out.push(recovery);
  return out;
}

/** The identity fields as the server reads them back (app/cases/identity.py). */
export function buildIdentityPayload(identity) {
  const text = (v) => (typeof v === "string" ? v.trim().split(/\s+/).join(" ") : "");
  return {
    v: 1,
    full_name: text(identity.full_name),
    id_number: text(identity.id_number),
    address: text(identity.address),
    contact: text(identity.contact),
  };
}

/**
 * Encrypt a report in the browser. Returns the FormData to POST to
 * /api/v1/reports. Two fresh X25519 key pairs are made here: the case key
 * (report, attachments, messages) and the staff key (internal notes). Their
 * identities leave this function only inside the two key wraps.
 *
 * Part order: clear fields first, then report, case_key_wrap, staff_key_wrap,
 * then the (possibly large) attachments, so that a streaming server has the
 * ticket and the keys before it meets the big parts.
 */
export async function prepareReport({
  info,
  ticket,
  answers,
  category,
  sector,
  excludedSlugs = [],
  files = [],
  onProgress,
  identity = null,
}) {
  if (!ticket || typeof ticket.ticket !== "string" || !ticket.ticket) throw new Error("no ticket");
  const reporter = checkRecipient(ticket.reporter_recipient, "reporter_recipient");
  const fileList = Array.from(files);
  const slugs = Array.from(excludedSlugs);
  const staffReaders = wrapRecipients(info, slugs);
  const caseReaders = staffReaders.includes(reporter) ? staffReaders : [...staffReaders, reporter];

  const caseKey = await newKeyPair();
  const staffKey = await newKeyPair();

  const report = await encryptBytes([caseKey.recipient], buildReportPayload(answers, fileList));
  const caseWrap = await encryptBytes(caseReaders, caseKey.identity);
  const staffWrap = await encryptBytes(staffReaders, staffKey.identity);
  const attachments = [];
  for (const [i, f] of fileList.entries()) {
    attachments.push(await encryptAttachment(caseKey.recipient, f, attachmentProgress(onProgress, i)));
  }
  // Named track: the identity is sealed under its own key, padded to 2048 bytes.
  let sealed = null;
  if (identity) {
    const identityKey = await newKeyPair();
    sealed = {
      recipient: identityKey.recipient,
      file: await encryptBytes([identityKey.recipient], padJson(buildIdentityPayload(identity), IDENTITY_PAD_BLOCK)),
      wrap: await encryptBytes(identityRecipients(info), identityKey.identity),
    };
  }

  const fd = new FormData();
  fd.append("ticket", ticket.ticket);
  fd.append("category", category == null ? "" : String(category));
  fd.append("sector", sector == null ? "" : String(sector));
  for (const slug of slugs) fd.append("excluded_units", String(slug));
  fd.append("case_recipient", caseKey.recipient);
  fd.append("staff_recipient", staffKey.recipient);
  fd.append("recipients_version", String(info.recipients_version ?? ""));
  fd.append("report", octets(report), "report.age");
  fd.append("case_key_wrap", octets(caseWrap), "case_key_wrap.age");
  fd.append("staff_key_wrap", octets(staffWrap), "staff_key_wrap.age");
  if (sealed) {
    fd.append("track", "named");
    fd.append("identity_recipient", sealed.recipient);
    fd.append("identity", octets(sealed.file), "identity.age");
    fd.append("identity_key_wrap", octets(sealed.wrap), "identity_key_wrap.age");
  }
  attachments.forEach((blob, i) => fd.append("attachment", octets(blob), `attachment-${i}.age`));
  return fd;
}

export { RECIPIENTS_CHANGED, postReport } from "./send.js";

/**
 * Encrypt a follow-up message (and its attachments) to the case key. Returns
 * the FormData to POST to /api/v1/followup/messages. `after`: see
 * buildMessagePayload.
 */
export async function prepareMessage({ caseRecipient, text, files = [], after = null, onProgress }) {
  const recipient = checkRecipient(caseRecipient, "case recipient");
  const fileList = Array.from(files);
  const message = await encryptBytes([recipient], buildMessagePayload(text, fileList, after));
  const attachments = [];
  for (const [i, f] of fileList.entries()) {
    attachments.push(await encryptAttachment(recipient, f, attachmentProgress(onProgress, i)));
  }
  const fd = new FormData();
  fd.append("message", octets(message), "message.age");
  attachments.forEach((blob, i) => fd.append("attachment", octets(blob), `attachment-${i}.age`));
  return fd;
}
