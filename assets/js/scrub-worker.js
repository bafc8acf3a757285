// Liêm Chính intake: the hidden-information Web Worker (app/static/js/scrub-worker.js).
//
// Loaded by the page only when the reporter picks a file (issue 15: the page
// itself stays light), from this origin (CSP worker-src 'self'). Jobs: {id, op:
// "inspect" | "clean", file} where file is the File the reporter picked (cloned
// to the worker). Out: {id, type: "done", result} with inspect's description
// (scrub/index.js) or the cleaned file's bytes as a Blob, or {id, type:
// "error"}. It reads only the file it is given, sends nothing over the
// network and keeps nothing after a job.

import { clean, formatOf, inspect } from "./scrub/index.js";

// Enough to tell every format this worker knows.
const HEAD_BYTES = 16;
const UNREAD = new Set(["other", "heic"]);

self.onmessage = async (event) => {
  const { id, op, file } = event.data || {};
  try {
    // A file this worker cannot clean is not read past its first bytes (a video of
    // 50 MB stays on the disk).
    const head = new Uint8Array(await file.slice(0, HEAD_BYTES).arrayBuffer());
    if (op === "inspect" && UNREAD.has(formatOf(head))) {
      self.postMessage({ id, type: "done", result: await inspect(head) });
      return;
    }
    const bytes = new Uint8Array(await file.arrayBuffer());
    const result = op === "clean" ? await clean(bytes) : await inspect(bytes);
    self.postMessage({ id, type: "done", result });
  } catch (e) {
    self.postMessage({ id, type: "error" });
  }
};
