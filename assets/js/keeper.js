// Liêm Chính intake: keep a redeemed proof of work ready before the click.
//
// A Keeper fetches a challenge, has it solved (in the PoW worker) and redeems
// it (for the report form: POST /tickets, which costs the server one Argon2id
// run and returns the ticket, the receipt and the reporter's key) while the
// reporter types, so that "Send" only encrypts and uploads. What it holds
// expires (challenge 10 minutes, ticket 30 minutes): it renews quietly before
// then, and never hands out anything stale. A stale challenge is dropped
// unsent; a stale ticket is dropped and replaced. Times are measured on the
// page's monotonic clock from the server's relative lifetimes (expires_in), so
// a wrong clock in the browser does not matter. Free of the DOM (tests/js/).

export const CHALLENGE_MARGIN_MS = 60 * 1000; // a challenge is spent at least a minute before it expires
export const VALUE_MARGIN_MS = 5 * 60 * 1000; // a ticket is renewed five minutes before it expires
export const RETRY_MS = 30 * 1000; // after a failure in the background, try again later

function monotonic() {
  return typeof performance !== "undefined" && typeof performance.now === "function" ? performance.now() : Date.now();
}

/**
 * @param {object} o
 * @param {() => Promise<object>} o.fetchChallenge  {challenge, bits, puzzles, expires_in}
 * @param {(pow: object, onProgress: (f: number) => void) => Promise<string>} o.solve
 * @param {(pow: object, solution: string, deadline: number) => Promise<{value: any, expiresIn: number}>} o.redeem
 *        what the solved challenge buys, and its lifetime in seconds
 */
export class Keeper {
  constructor({
    fetchChallenge,
    solve,
    redeem,
    now = monotonic,
    // Wrapped: a browser refuses setTimeout called as a method of another object.
    schedule = (fn, ms) => setTimeout(fn, ms),
    cancel = (timer) => clearTimeout(timer),
    valueMargin = VALUE_MARGIN_MS,
  }) {
    Object.assign(this, { fetchChallenge, solve, redeem, now, schedule, cancel, valueMargin });
    this.ready = null; // {value, deadline}
    this.pending = null; // Promise of the next ready value
    this.fraction = 0; // share of the current proof of work done
    this.listeners = new Set();
    this.timer = null;
    this.stopped = false;
  }

  /** Begin (or keep) preparing in the background. Errors are retried later, quietly. */
  start() {
    if (this.stopped || this.pending || this.fresh()) return;
    this.pending = this.make();
    this.pending.catch(() => {
      if (!this.stopped) this.later(RETRY_MS, () => this.start());
    });
  }

  stop() {
    this.stopped = true;
    this.ready = null;
    if (this.timer !== null) this.cancel(this.timer);
  }

  fresh() {
    return Boolean(this.ready && this.now() < this.ready.deadline - this.valueMargin);
  }

  later(ms, fn) {
    if (this.timer !== null) this.cancel(this.timer);
    this.timer = this.schedule(() => {
      this.timer = null;
      fn();
    }, Math.max(ms, 0));
    // Under Node (tests/js/) a pending renewal must not keep the process alive.
    if (this.timer && typeof this.timer.unref === "function") this.timer.unref();
  }

  progress(fraction) {
    this.fraction = fraction;
    for (const fn of this.listeners) fn(fraction);
  }

  async make() {
    try {
      for (;;) {
        const pow = await this.fetchChallenge();
        const deadline = this.now() + Number(pow.expires_in) * 1000;
        this.progress(0);
        const solution = await this.solve(pow, (f) => this.progress(f));
        if (this.now() >= deadline - CHALLENGE_MARGIN_MS) continue; // stale: never sent
        const started = this.now();
        const { value, expiresIn } = await this.redeem(pow, solution, deadline);
        this.progress(1);
        // Counted from before the request: the server's clock started no earlier.
        this.ready = { value, deadline: started + Number(expiresIn) * 1000 };
        this.later(this.ready.deadline - this.valueMargin - this.now(), () => this.renew());
        return this.ready;
      }
    } finally {
      this.pending = null;
    }
  }

  /** Drop what is held and prepare a new one (the old one is never handed out). */
  renew() {
    this.ready = null;
    this.start();
  }

  /**
   * A fresh value, used once: what is ready, else what is being prepared
   * (`onProgress(fraction)` meanwhile), else a new one. Stale values are
   * renewed, never returned.
   */
  async take(onProgress) {
    if (onProgress) this.listeners.add(onProgress);
    try {
      for (;;) {
        if (this.fresh()) {
          const { value } = this.ready;
          this.ready = null;
          if (this.timer !== null) this.cancel(this.timer);
          this.timer = null;
          return value;
        }
        this.ready = null;
        if (onProgress) onProgress(this.fraction);
        await (this.pending || (this.pending = this.make()));
      }
    } finally {
      if (onProgress) this.listeners.delete(onProgress);
    }
  }
}
