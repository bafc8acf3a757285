// Liêm Chính intake: the proof-of-work search, free of the DOM (runs in the
// PoW Web Worker, pow-worker.js, and under Node in tests/js/).
//
// A challenge is `puzzles` independent puzzles (app/cases/pow.py): puzzle i
// needs a nonce such that SHA-256(UTF-8 "{challenge}:{i}:{nonce}") starts with
// `bits` zero bits, and the answer is the k nonces joined by ".". k searches
// of 2^bits attempts each cost the same on average as one search of
// 2^(bits + log2 k), but their sum is far less of a lottery (docs/crypto.md).
// noble's synchronous SHA-256 is used: WebCrypto's digest is asynchronous, one
// promise per attempt, which costs more than the hash itself.

import { sha256 } from "@noble/hashes/sha2.js";

const utf8 = new TextEncoder();

/** Number of leading zero bits of a byte array. */
export function leadingZeroBits(bytes) {
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b === 0) {
      n += 8;
      continue;
    }
    return n + Math.clz32(b) - 24;
  }
  return n;
}

function abortError(signal) {
  if (signal && signal.reason !== undefined) return signal.reason;
  const e = new Error("aborted");
  e.name = "AbortError";
  return e;
}

// Let the thread breathe between batches (messages, aborts). A MessageChannel
// task is used when available because browsers throttle setTimeout in
// background tabs (down to once a second), which would stall the search.
function yieldToEventLoop() {
  return new Promise((resolve) => {
    if (typeof MessageChannel === "function") {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => {
        ch.port1.close();
        resolve();
      };
      ch.port2.postMessage(null);
    } else {
      setTimeout(resolve, 0);
    }
  });
}

/**
 * Find a decimal nonce such that SHA-256(UTF-8 `${prefix}:${nonce}`) starts
 * with at least `difficulty` zero bits. Works in batches of `batchSize` hashes
 * and yields to the event loop between batches. `onProgress(hashesTried)` is
 * called after every batch; `signal` (an AbortSignal) stops the search with
 * its reason.
 */
export async function solvePow(prefix, difficulty, { onProgress, signal, batchSize = 20000 } = {}) {
  if (typeof prefix !== "string") throw new TypeError("challenge must be a string");
  if (!Number.isInteger(difficulty) || difficulty < 0 || difficulty > 256) {
    throw new RangeError("difficulty must be an integer between 0 and 256");
  }
  // The prefix is hashed once; every attempt copies that state into one
  // reused hash object (noble's _cloneInto, the same call its HMAC uses) and
  // adds the nonce's ASCII digits. About twice as fast as clone() + encode().
  const start = sha256.create().update(utf8.encode(`${prefix}:`));
  const fast = typeof start._cloneInto === "function";
  let work = fast ? sha256.create() : null;
  const digits = new Uint8Array(20);
  const digest = new Uint8Array(32);
  let nonce = 0;
  for (;;) {
    if (signal && signal.aborted) throw abortError(signal);
    const end = nonce + batchSize;
    for (; nonce < end; nonce++) {
      const s = String(nonce);
      for (let k = 0; k < s.length; k++) digits[k] = s.charCodeAt(k);
      const h = fast ? (work = start._cloneInto(work)) : start.clone();
      h.update(digits.subarray(0, s.length));
      h.digestInto(digest);
      if (leadingZeroBits(digest) >= difficulty) return s;
    }
    if (!Number.isSafeInteger(nonce)) throw new Error("proof of work: nonce space exhausted");
    if (onProgress) onProgress(nonce);
    await yieldToEventLoop();
  }
}

/**
 * Solve a challenge of `puzzles` puzzles of `bits` bits each: the nonces
 * joined by ".", as the server expects them. `onProgress(fraction)` reports
 * the share of the expected work done: whole puzzles solved, plus the current
 * puzzle's attempts against its expected 2^bits (capped, since a puzzle can
 * take longer than expected). Never reports 1 before it is done.
 */
export async function solvePuzzles(challenge, bits, puzzles, { onProgress, signal, batchSize = 20000 } = {}) {
  if (!Number.isInteger(puzzles) || puzzles < 1 || puzzles > 256) {
    throw new RangeError("puzzles must be an integer between 1 and 256");
  }
  const expected = 2 ** bits;
  const nonces = [];
  for (let i = 0; i < puzzles; i++) {
    const report = (tried) => {
      if (onProgress) onProgress((i + Math.min(tried / expected, 0.95)) / puzzles);
    };
    nonces.push(await solvePow(`${challenge}:${i}`, bits, { onProgress: report, signal, batchSize }));
    if (onProgress) onProgress((i + 1) / puzzles);
  }
  return nonces.join(".");
}
