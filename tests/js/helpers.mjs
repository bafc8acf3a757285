// Shared helpers for the JavaScript tests (not a test file itself).
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { Decrypter, generateX25519Identity, identityToRecipient } from "age-encryption";
import { padmeLength } from "../../assets/js/padding.js";

export const utf8 = new TextEncoder();

/** The server's check of a proof of work, written independently of core.js. */
export function powOk(challenge, nonce, difficulty) {
  const d = createHash("sha256").update(`${challenge}:${nonce}`, "utf8").digest();
  let bits = 0;
  for (const b of d) {
    if (b === 0) {
      bits += 8;
      continue;
    }
    bits += Math.clz32(b) - 24;
    break;
  }
  return bits >= difficulty;
}

export async function keyPair() {
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}

export async function decrypt(identity, bytes, format) {
  const d = new Decrypter();
  d.addIdentity(identity);
  return format === "text" ? await d.decrypt(bytes, "text") : await d.decrypt(bytes);
}

export async function bytesOf(part) {
  return typeof part === "string" ? utf8.encode(part) : new Uint8Array(await part.arrayBuffer());
}

/** Does `haystack` (Uint8Array) contain `needle` (Uint8Array)? */
export function containsBytes(haystack, needle) {
  if (needle.length === 0) return true;
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/**
 * Every place in a FormData where `secret` (a string) shows up: field names,
 * string values, file names, file types and file bytes (as UTF-8).
 */
export async function findInFormData(fd, secret) {
  const needle = utf8.encode(secret);
  const hits = [];
  for (const [name, value] of fd.entries()) {
    if (name.includes(secret)) hits.push(`name ${name}`);
    if (typeof value === "string") {
      if (value.includes(secret)) hits.push(`value of ${name}`);
    } else {
      if ((value.name || "").includes(secret)) hits.push(`filename of ${name}`);
      if ((value.type || "").includes(secret)) hits.push(`type of ${name}`);
      if (containsBytes(await bytesOf(value), needle)) hits.push(`bytes of ${name}`);
    }
  }
  return hits;
}

export function ageCli() {
  for (const p of ["/usr/bin/age", "/usr/local/bin/age"]) if (existsSync(p)) return p;
  try {
    return execFileSync("which", ["age"], { encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

/**
 * A decrypted attachment without its padding: checks that `plain` is `size`
 * bytes followed by zero bytes up to the PADMÉ length, and returns the first
 * `size` bytes (what a download serves).
 */
export function unpad(plain, size) {
  const bytes = plain instanceof Uint8Array ? plain : new Uint8Array(plain);
  if (bytes.length !== padmeLength(size)) {
    throw new Error(`padded length ${bytes.length}, expected ${padmeLength(size)} for ${size} bytes`);
  }
  for (let i = size; i < bytes.length; i++) {
    if (bytes[i] !== 0) throw new Error(`padding byte ${i} is ${bytes[i]}, not 0`);
  }
  return bytes.subarray(0, size);
}

/** Whether `solution` (nonces joined by ".") solves every puzzle of `challenge`. */
export function puzzlesOk(challenge, solution, bits, puzzles) {
  const nonces = String(solution).split(".");
  return nonces.length === puzzles && nonces.every((n, i) => powOk(`${challenge}:${i}`, n, bits));
}
