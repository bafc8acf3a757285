// Liêm Chính intake: the encryption Web Worker (app/static/js/crypto-worker.js).
//
// All of the browser's encryption runs here, off the page's main thread, so
// the page never freezes on a large file and its progress bars keep moving.
// The page loads this worker only once it is needed (the reporter starts
// writing, picks a file or sends), so /report itself stays light.
//
// Jobs: {id, op: "report" | "message", args} where args are what
// prepareReport / prepareMessage (core.js) take, files included (File objects
// are cloned to the worker, not read by the page). Out: {id, type:
// "progress", file, done, total} while attachments are encrypted, then {id,
// type: "done", parts: [[name, value, filename|null], …]} (the FormData to
// send, rebuilt by the page in the same order) or {id, type: "error"}. The
// worker sends nothing over the network and keeps nothing after a job.

import { prepareMessage, prepareReport } from "./core.js";

const OPS = { report: prepareReport, message: prepareMessage };

self.onmessage = async (event) => {
  const { id, op, args } = event.data || {};
  try {
    const prepare = OPS[op];
    if (!prepare) throw new Error("unknown job");
    const onProgress = ({ file, done, total }) => self.postMessage({ id, type: "progress", file, done, total });
    const fd = await prepare({ ...args, onProgress });
    const parts = [];
    for (const [name, value] of fd.entries()) {
      parts.push(typeof value === "string" ? [name, value, null] : [name, value, value.name]);
    }
    self.postMessage({ id, type: "done", parts });
  } catch (e) {
    self.postMessage({ id, type: "error", message: e && e.message ? String(e.message) : "error" });
  }
};
