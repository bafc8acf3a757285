// Liêm Chính intake: sending a report, again for new readers if they changed.
// Free of the DOM and of any cryptography (the page's bundle imports it; the
// encryption itself runs in crypto-worker.js).

export const RECIPIENTS_CHANGED = "recipients_changed";

/**
 * Send a report, wrapping its keys again when the readers changed meanwhile.
 *
 * The server cannot see whom an age file is encrypted to; it checks the
 * recipients version sent with the report instead, and answers 409
 * `recipients_changed` (storing nothing) when a member joined or left since
 * `info` was fetched. Then the info is fetched again and `prepare(info)` makes
 * new wraps for the current readers, at most `attempts` times in all.
 * `post(body)` and `fetchInfo()` do the HTTP; the last Response is returned.
 */
export async function postReport({ info, prepare, post, fetchInfo, attempts = 3 }) {
  let current = info;
  for (let attempt = 1; ; attempt++) {
    const res = await post(await prepare(current));
    if (res.status !== 409 || attempt >= attempts) return res;
    let code = "";
    try {
      const body = await res.clone().json();
      code = body && typeof body.error === "string" ? body.error : "";
    } catch (e) {
      code = "";
    }
    if (code !== RECIPIENTS_CHANGED) return res;
    current = await fetchInfo();
  }
}
