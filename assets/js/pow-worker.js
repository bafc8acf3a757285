// Liêm Chính intake: the proof-of-work Web Worker (app/static/js/pow-worker.js).
//
// The page starts it as soon as a form that needs a proof of work is shown,
// so the search runs off the main thread while the reporter reads and types
// (intake.js, keeper.js). One job per worker: {challenge, bits, puzzles} in;
// {type: "progress", fraction} messages, then {type: "done", solution} or
// {type: "error"} out. The page ends the worker when it no longer needs it.
// Nothing here sees what the reporter writes.

import { solvePuzzles } from "./pow.js";

self.onmessage = async (event) => {
  const job = event.data || {};
  try {
    let last = -1;
    const solution = await solvePuzzles(String(job.challenge), Number(job.bits), Number(job.puzzles), {
      batchSize: 4096,
      onProgress: (fraction) => {
        const percent = Math.floor(fraction * 100);
        if (percent !== last) {
          last = percent;
          self.postMessage({ type: "progress", fraction });
        }
      },
    });
    self.postMessage({ type: "done", solution });
  } catch (e) {
    self.postMessage({ type: "error", message: e && e.name ? e.name : "error" });
  }
};
