// Liêm Chính intake: the hidden-information Web Worker (app/static/js/scrub-worker.js).
//
// Loaded by the page only when the reporter picks a file (issue 15: the page
// itself stays light), from this origin (CSP worker-src 'self'). Jobs: {id, op:
// "inspect" | "clean", file} where file is the File the reporter picked (cloned
// to the worker). Out: {id, type: "done", result} with inspect's description
// (scrub/index.js) or the cleaned file's bytes as a Blob, or {id, type:
// "error"}. It reads only the file it is given, sends nothing over the
// network and keeps nothing after a job.

import { clean, inspect } from "./scrub/index.js";

self.onmessage = async (event) => {
  const { id, op, file } = event.data || {};
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const result = op === "clean" ? await clean(bytes) : await inspect(bytes);
    self.postMessage({ id, type: "done", result });
  } catch (e) {
    self.postMessage({ id, type: "error" });
  }
};
