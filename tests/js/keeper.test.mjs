// keeper.js: the work before the click. A fake clock and a fake timer stand in for
// the page's; the proof of work is the real search (pow.js), at small sizes.
import { test } from "node:test";
import assert from "node:assert/strict";

import { CHALLENGE_MARGIN_MS, Keeper, VALUE_MARGIN_MS } from "../../assets/js/keeper.js";
import { solvePuzzles } from "../../assets/js/pow.js";
import { puzzlesOk } from "./helpers.mjs";

/** A world with a clock the test moves, challenges numbered c1, c2, … and tickets T1, T2, …. */
function world({ challengeLife = 600, ticketLife = 1800, solveMs = 0 } = {}) {
  const w = { t: 0, timers: [], challenges: [], redeemed: [], progress: [] };
  w.now = () => w.t;
  w.schedule = (fn, ms) => {
    const timer = { at: w.t + ms, fn, live: true };
    w.timers.push(timer);
    return timer;
  };
  w.cancel = (timer) => {
    timer.live = false;
  };
  /** Move the clock, firing due timers in order. */
  w.advance = async (ms) => {
    w.t += ms;
    for (const timer of w.timers.filter((x) => x.live && x.at <= w.t)) {
      timer.live = false;
      timer.fn();
    }
    await new Promise((r) => setImmediate(r));
  };
  w.keeper = new Keeper({
    now: w.now,
    schedule: w.schedule,
    cancel: w.cancel,
    fetchChallenge: async () => {
      const pow = { challenge: `c${w.challenges.length + 1}`, bits: 3, puzzles: 4, expires_in: challengeLife };
      w.challenges.push(pow.challenge);
      return pow;
    },
    solve: async (pow, onProgress) => {
      const solution = await solvePuzzles(pow.challenge, pow.bits, pow.puzzles, { onProgress });
      w.t += solveMs; // the search took this long on the page's clock
      return solution;
    },
    redeem: async (pow, solution) => {
      assert.ok(puzzlesOk(pow.challenge, solution, 3, 4), "only solved challenges are redeemed");
      w.redeemed.push(pow.challenge);
      return { value: `T${w.redeemed.length}`, expiresIn: ticketLife };
    },
  });
  return w;
}

test("the work is done before the click: take() hands out the ticket at once, once", async () => {
  const w = world();
  w.keeper.start();
  w.keeper.start(); // idempotent
  await w.advance(0);
  await w.advance(0);
  assert.deepEqual(w.redeemed, ["c1"]);
  const shown = [];
  assert.equal(await w.keeper.take((f) => shown.push(f)), "T1");
  assert.deepEqual(shown, [], "nothing left to show");
  // Used once: the next take prepares another.
  assert.equal(await w.keeper.take(), "T2");
  assert.deepEqual(w.challenges, ["c1", "c2"]);
});

test("a click before the work is done waits for it, with progress, then gets it", async () => {
  const w = world();
  const shown = [];
  const ticket = await w.keeper.take((f) => shown.push(f));
  assert.equal(ticket, "T1");
  assert.ok(shown.length >= 4, `progress shown: ${shown}`);
  assert.ok(shown.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= shown[i - 1])), "never goes back");
  assert.equal(shown.at(-1), 1);
});

test("a ticket is renewed quietly before it expires, and a stale one is never handed out", async () => {
  const w = world();
  w.keeper.start();
  await w.advance(0);
  await w.advance(0);
  assert.deepEqual(w.redeemed, ["c1"]);
  // Just before the renewal point: still the first.
  await w.advance(1800 * 1000 - VALUE_MARGIN_MS - 1);
  assert.deepEqual(w.redeemed, ["c1"]);
  await w.advance(1); // the renewal timer fires
  await w.advance(0);
  assert.deepEqual(w.redeemed, ["c1", "c2"]);
  assert.equal(await w.keeper.take(), "T2", "the renewed ticket, not T1");

  // A page asleep past the renewal (timers did not run): take() sees it stale and renews.
  const v = world();
  v.keeper.start();
  await v.advance(0);
  await v.advance(0);
  v.t += 1800 * 1000; // no timers fired
  assert.equal(await v.keeper.take(), "T2");
  assert.deepEqual(v.redeemed, ["c1", "c2"]);
});

test("a challenge that went stale while it was solved is dropped unsent", async () => {
  // Solving takes longer than the challenge lives, minus the margin, the first time.
  const w = world({ challengeLife: 600 });
  let slow = true;
  const solve = w.keeper.solve;
  w.keeper.solve = async (pow, onProgress) => {
    const solution = await solve(pow, onProgress);
    if (slow) w.t += 600 * 1000 - CHALLENGE_MARGIN_MS;
    slow = false;
    return solution;
  };
  assert.equal(await w.keeper.take(), "T1");
  assert.deepEqual(w.challenges, ["c1", "c2"]);
  assert.deepEqual(w.redeemed, ["c2"], "c1 was never sent");
});

test("failures in the background are retried later; a click sees the error", async () => {
  const w = world();
  let fail = true;
  const fetchChallenge = w.keeper.fetchChallenge;
  w.keeper.fetchChallenge = async () => {
    if (fail) throw new Error("offline");
    return fetchChallenge();
  };
  w.keeper.start();
  await w.advance(0);
  await assert.rejects(w.keeper.take(), /offline/);
  fail = false;
  await w.advance(30 * 1000); // the quiet retry
  await w.advance(0);
  assert.deepEqual(w.redeemed, ["c1"]);
  assert.equal(await w.keeper.take(), "T1");
  w.keeper.stop();
  assert.equal(w.timers.filter((x) => x.live).length, 0, "stop() leaves no timer");
});

test("solvePuzzles: k nonces, each bound to its index; progress rises to 1", async () => {
  const seen = [];
  const solution = await solvePuzzles("Tiếng Việt:thử", 6, 8, { onProgress: (f) => seen.push(f), batchSize: 16 });
  assert.ok(puzzlesOk("Tiếng Việt:thử", solution, 6, 8));
  const nonces = solution.split(".");
  assert.equal(nonces.length, 8);
  assert.ok(!puzzlesOk("Tiếng Việt:thử", [...nonces.slice(1), nonces[0]].join("."), 6, 8), "order matters");
  assert.equal(seen.at(-1), 1);
  assert.ok(seen.slice(0, -1).every((f) => f < 1));
  assert.equal(await solvePuzzles("x", 0, 1), "0");
  await assert.rejects(solvePuzzles("x", 4, 0), RangeError);
  await assert.rejects(solvePuzzles("x", 4, 300), RangeError);
});
