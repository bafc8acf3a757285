// Liêm Chính intake: the page's side of its two Web Workers. Both are scripts
// of this origin (CSP script-src/worker-src 'self'), whose URLs the server
// writes on the form (data-pow-worker, data-crypto-worker).

/** Solve `pow` in a fresh PoW worker (pow-worker.js); ended when done. */
export function solveInWorker(url, pow, onProgress) {
  return new Promise((resolve, reject) => {
    let worker;
    try {
      worker = new Worker(url);
    } catch (e) {
      reject(e);
      return;
    }
    worker.onmessage = (event) => {
      const m = event.data || {};
      if (m.type === "progress") {
        if (onProgress) onProgress(Number(m.fraction) || 0);
        return;
      }
      worker.terminate();
      if (m.type === "done" && typeof m.solution === "string") resolve(m.solution);
      else reject(new Error("proof of work failed"));
    };
    worker.onerror = (event) => {
      if (event && typeof event.preventDefault === "function") event.preventDefault();
      worker.terminate();
      reject(new Error("proof of work worker failed"));
    };
    const puzzles = Number.isInteger(pow.puzzles) ? pow.puzzles : 1;
    const bits = Number.isInteger(pow.bits) ? pow.bits : Number(pow.difficulty);
    worker.postMessage({ challenge: String(pow.challenge), bits, puzzles });
  });
}

/**
 * The encryption worker (crypto-worker.js), started on first use and kept for
 * the page's life. run(op, args, onProgress) resolves to the FormData to send.
 */
export class CryptoJobs {
  constructor(url) {
    this.url = url;
    this.worker = null;
    this.jobs = new Map();
    this.nextId = 1;
  }

  /** Start the worker now (it loads while the reporter writes). */
  warm() {
    if (this.worker) return this.worker;
    this.worker = new Worker(this.url);
    this.worker.onmessage = (event) => this.receive(event.data || {});
    this.worker.onerror = (event) => {
      if (event && typeof event.preventDefault === "function") event.preventDefault();
      const jobs = [...this.jobs.values()];
      this.jobs.clear();
      this.worker.terminate();
      this.worker = null; // the next job starts a new one
      for (const job of jobs) job.reject(new Error("encryption worker failed"));
    };
    return this.worker;
  }

  receive(m) {
    const job = this.jobs.get(m.id);
    if (!job) return;
    if (m.type === "progress") {
      if (job.onProgress) job.onProgress(m);
      return;
    }
    this.jobs.delete(m.id);
    if (m.type !== "done" || !Array.isArray(m.parts)) {
      job.reject(new Error("encryption failed"));
      return;
    }
    const fd = new FormData();
    for (const [name, value, filename] of m.parts) {
      if (filename === null) fd.append(name, value);
      else fd.append(name, value, filename);
    }
    job.resolve(fd);
  }

  /** Stop the job under way (the reporter cancelled a file): the worker is ended,
   * its jobs fail, and the next job starts a new one. */
  cancel() {
    if (!this.worker) return;
    const jobs = [...this.jobs.values()];
    this.jobs.clear();
    this.worker.terminate();
    this.worker = null;
    for (const job of jobs) job.reject(new Error("cancelled"));
  }

  run(op, args, onProgress) {
    const worker = this.warm();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.jobs.set(id, { resolve, reject, onProgress });
      worker.postMessage({ id, op, args });
    });
  }
}
