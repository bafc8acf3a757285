// Liêm Chính intake: DOM glue, the entry point of app/static/js/intake.js.
//
// Progressive enhancement: without JavaScript the forms post to the server,
// which encrypts while it receives. With JavaScript, this file takes over the
// submit of #report-form and #message-form, encrypts everything in the
// browser (see core.js) and sends only ciphertext, public keys and the few
// fields that are in clear by design (ticket, category, sector, excluded
// units). It also takes over #open-case-form (follow-up), to open the case
// through the JSON API. Every request that makes the server work (a ticket,
// opening a case, a message) first pays a proof of work on a challenge the
// server issued; the server keeps its no-JavaScript budgets for the plain
// forms, so a flood of those cannot stop this path. Nothing here logs, stores
// or sends plaintext; progress and errors are shown in #js-status with the
// texts the server rendered into data-msg-*.
//
// The slow parts happen before the click, off the main thread: as soon as a
// form is shown its proof of work runs in the PoW worker (pow-worker.js) and,
// on the report form, the ticket is fetched once it is solved (keeper.js keeps
// both fresh). The encryption runs in the encryption worker
// (crypto-worker.js), loaded when the reporter starts writing or picks a file.
// A click before the work is done shows how much is left and sends when it is.

import {
  CleanError,
  filesToSend,
  onFileCancel,
  resetProgress,
  sendProgress,
  texts as scrubTexts,
  watchFiles,
} from "./files.js";
import { CHALLENGE_MARGIN_MS, Keeper } from "./keeper.js";
import { initLanguageSwitch } from "./language.js";
import { initReceipt, showReceipt } from "./receipt.js";
import { postReport } from "./send.js";
import { CryptoJobs, solveInWorker } from "./workers.js";

const JSON_TYPE = "application/json";

/** An error whose text is meant for the reporter (already translated). */
class ShownError extends Error {}

function statusBox() {
  return document.getElementById("js-status");
}

function say(text) {
  const box = statusBox();
  if (box) box.textContent = text || "";
}

function msg(form, key) {
  return form.dataset[key] || "";
}

function csrfToken(form) {
  const el = form.elements.namedItem("csrf_token");
  return el && typeof el.value === "string" ? el.value : "";
}

function submitButtons(form) {
  return form.querySelectorAll('button:not([type]), button[type="submit"], input[type="submit"]');
}

function setBusy(form, busy) {
  form.setAttribute("aria-busy", busy ? "true" : "false");
  for (const b of submitButtons(form)) b.disabled = busy;
}

function selectedFiles(form) {
  const input = form.querySelector('input[type="file"][name="attachments"]');
  return input && input.files ? Array.from(input.files) : [];
}

/** fetch() for our own API: same origin, no redirects, JSON error bodies. */
async function api(form, path, init) {
  const headers = { Accept: JSON_TYPE, ...(init.headers || {}) };
  const token = csrfToken(form);
  if (token && init.method && init.method !== "GET") headers["X-CSRFToken"] = token;
  let res;
  try {
    res = await fetch(form.dataset.api.replace(/\/+$/, "") + path, {
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error",
      ...init,
      headers,
    });
  } catch (e) {
    throw new ShownError(msg(form, "msgFailed"));
  }
  return res;
}

async function serverMessage(res) {
  try {
    const type = res.headers.get("Content-Type") || "";
    if (!type.includes(JSON_TYPE)) return "";
    const body = await res.json();
    return body && typeof body.message === "string" ? body.message : "";
  } catch (e) {
    return "";
  }
}

async function expect(form, res, statuses) {
  if (statuses.includes(res.status)) {
    return res;
  }
  const detail = await serverMessage(res);
  throw new ShownError([msg(form, "msgFailed"), detail].filter(Boolean).join(" "));
}

function showFailure(form, err) {
  const text = err instanceof ShownError ? err.message : msg(form, "msgFailed");
  say(text || msg(form, "msgFailed"));
}

// ---------------------------------------------------------------- report form

/**
 * The reporter's answer to question `q`, or undefined when unanswered.
 * Multiselect answers are arrays of strings (multiple <select> or a group of
 * checkboxes); everything else is a string.
 */
function answerOf(form, q) {
  const field = form.elements.namedItem(q.id);
  if (!field) return undefined;
  const multi = q.type === "multiselect";
  let values;
  if (field instanceof HTMLSelectElement) {
    values = Array.from(field.selectedOptions, (o) => o.value);
    if (!field.multiple && !multi) return values[0] ? values[0] : undefined;
  } else if (typeof RadioNodeList !== "undefined" && field instanceof RadioNodeList) {
    const els = Array.from(field);
    if (els.some((el) => el.type === "checkbox")) {
      values = els.filter((el) => el.checked).map((el) => el.value);
    } else {
      return field.value ? field.value : undefined;
    }
  } else if (field.type === "checkbox") {
    values = field.checked ? [field.value] : [];
    if (!multi) return values[0];
  } else if (field.type === "radio") {
    return field.checked ? field.value : undefined;
  } else {
    const v = typeof field.value === "string" ? field.value : "";
    return v.trim() ? v : undefined;
  }
  return values.length ? values : undefined;
}

function focusField(form, id) {
  const field = form.elements.namedItem(id);
  const el = field && typeof RadioNodeList !== "undefined" && field instanceof RadioNodeList ? field[0] : field;
  if (el && typeof el.focus === "function") el.focus();
}

function collectAnswers(form, questions) {
  const answers = {};
  for (const q of questions) {
    if (!q || typeof q.id !== "string") continue;
    const a = answerOf(form, q);
    if (a === undefined) {
      if (q.required) {
        focusField(form, q.id);
        throw new ShownError(msg(form, "msgRequired"));
      }
      continue;
    }
    if (typeof a === "string" && q.max_length && a.length > q.max_length) {
      focusField(form, q.id);
      throw new ShownError(msg(form, "msgTooLarge"));
    }
    answers[q.id] = a;
  }
  return answers;
}

function checkLimits(form, files, limits) {
  if (!limits) return;
  const tooLarge = () => new ShownError(msg(form, "msgTooLarge"));
  if (limits.max_files != null && files.length > limits.max_files) throw tooLarge();
  let total = 0;
  for (const f of files) {
    if (limits.max_file_bytes != null && f.size > limits.max_file_bytes) throw tooLarge();
    total += f.size;
  }
  if (limits.max_report_bytes != null && total > limits.max_report_bytes) throw tooLarge();
}

/** Category and sector are also sent in clear (routing and statistics). */
function clearOf(form, answers, id) {
  const v = answers[id] !== undefined ? answers[id] : answerOf(form, { id, type: "select" });
  return typeof v === "string" ? v : "";
}

const IDENTITY_FIELDS = ["full_name", "id_number", "address", "contact"];

/** The named track's identity, or null for the anonymous one; all four required. */
function identityOf(form) {
  // Two radios: a RadioNodeList, whose value is the checked one's.
  const track = form.elements.namedItem("track");
  if (!track || track.value !== "named") return null;
  const identity = {};
  for (const key of IDENTITY_FIELDS) {
    const field = form.elements.namedItem(`identity_${key}`);
    const value = field && typeof field.value === "string" ? field.value.trim() : "";
    if (!value) {
      focusField(form, `identity_${key}`);
      throw new ShownError(msg(form, "msgIdentityRequired"));
    }
    identity[key] = value;
  }
  return identity;
}

// ------------------------------------------------------- work before the click

// Kept across a language switch (language.js replaces the page's body): the
// work done and the ticket fetched stay valid in the other language.
const state = { info: null, reportKeeper: null, powKeeper: null, crypto: null };

function currentForm(id, fallback) {
  return document.getElementById(id) || fallback;
}

function preparing(form) {
  return (fraction) => {
    const percent = Math.min(99, Math.max(0, Math.floor(fraction * 100)));
    say(`${msg(form, "msgPreparing")} ${percent}%`);
  };
}

async function getJson(form, path) {
  const res = await expect(form, await api(form, path, { method: "GET" }), [200]);
  const body = await res.json();
  if (!body || typeof body !== "object") throw new ShownError(msg(form, "msgFailed"));
  return body;
}

function checkedPow(form, pow) {
  if (!pow || typeof pow.challenge !== "string") throw new ShownError(msg(form, "msgFailed"));
  return pow;
}

function solver(form) {
  return (pow, onProgress) => solveInWorker(form.dataset.powWorker, pow, onProgress);
}

/** The report form's /submission info: fetched once when the page loads. */
function reportInfo(form) {
  if (!state.info) {
    state.info = getJson(form, "/submission");
    state.info.catch(() => {
      state.info = null; // asked again on the click
    });
  }
  return state.info;
}

/** Challenge, solution and ticket for the report form, prepared while the reporter types. */
function reportKeeper(form) {
  if (state.reportKeeper) return state.reportKeeper;
  const here = () => currentForm("report-form", form);
  let first = true;
  state.reportKeeper = new Keeper({
    fetchChallenge: async () => {
      if (first) {
        first = false;
        return checkedPow(here(), (await reportInfo(here())).pow);
      }
      return checkedPow(here(), await getJson(here(), "/challenge"));
    },
    solve: (pow, onProgress) => solver(here())(pow, onProgress),
    redeem: async (pow, solution) => {
      const res = await expect(
        here(),
        await api(here(), "/tickets", {
          method: "POST",
          headers: { "Content-Type": JSON_TYPE },
          body: JSON.stringify({ pow_challenge: pow.challenge, pow_nonce: solution }),
        }),
        [200, 201],
      );
      const ticket = await res.json();
      if (!ticket || typeof ticket.receipt !== "string" || !ticket.receipt || typeof ticket.ticket !== "string") {
        throw new ShownError(msg(here(), "msgFailed"));
      }
      return { value: ticket, expiresIn: Number(ticket.expires_in) || 30 * 60 };
    },
  });
  return state.reportKeeper;
}

/** A solved challenge for the follow-up forms, kept fresh while the page is open. */
function powKeeper(form) {
  if (state.powKeeper) return state.powKeeper;
  const here = () => currentForm(form.id, form);
  state.powKeeper = new Keeper({
    fetchChallenge: async () => checkedPow(here(), await getJson(here(), "/challenge")),
    solve: (pow, onProgress) => solver(here())(pow, onProgress),
    redeem: async (pow, solution, deadline) => ({
      value: { pow_challenge: pow.challenge, pow_nonce: solution },
      expiresIn: (deadline - performance.now()) / 1000,
    }),
    valueMargin: CHALLENGE_MARGIN_MS,
  });
  return state.powKeeper;
}

function cryptoJobs(form) {
  if (!state.crypto) state.crypto = new CryptoJobs(form.dataset.cryptoWorker);
  return state.crypto;
}

/** POST `body` to our API; with XMLHttpRequest where there is one, for its upload
 * progress (fetch() has none). Same rules as api(): same origin, no redirects. */
function postBody(form, path, body, onUpload, signal) {
  if (typeof XMLHttpRequest !== "function") return api(form, path, { method: "POST", body, signal });
  const url = form.dataset.api.replace(/\/+$/, "") + path;
  const sizes = body.getAll("attachment").map((b) => b.size);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const failed = () => reject(new ShownError(msg(form, "msgFailed")));
    xhr.open("POST", url);
    xhr.responseType = "blob";
    xhr.setRequestHeader("Accept", JSON_TYPE);
    const token = csrfToken(form);
    if (token) xhr.setRequestHeader("X-CSRFToken", token);
    xhr.upload.onprogress = xhr.upload.onload = (e) => {
      if (e.lengthComputable && onUpload) onUpload(e.loaded, e.total, sizes);
    };
    xhr.onload = () => {
      const answered = new URL(xhr.responseURL || url, location.href).pathname;
      if (answered !== new URL(url, location.href).pathname) return failed(); // redirected
      const type = xhr.getResponseHeader("Content-Type") || "";
      resolve(new Response(xhr.response, { status: xhr.status, headers: { "Content-Type": type } }));
    };
    xhr.onerror = failed;
    xhr.onabort = () => reject(new Error("cancelled"));
    if (signal) signal.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}

/**
 * Encrypt and send the picked files with `send(sending, progress, signal)`; when the
 * reporter cancels a file meanwhile, stop, drop that file, and start again with the
 * others (the text and the other files stay; nothing was stored).
 */
async function withCancel(form, crypto, send) {
  for (;;) {
    const files = selectedFiles(form);
    const attempt = new AbortController();
    onFileCancel(form, () => {
      attempt.abort();
      crypto.cancel();
    });
    let sending = [];
    try {
      sending = await filesToSend(form, files);
      if (attempt.signal.aborted) continue;
      return await send(sending, sendProgress(sending, scrubTexts(form)), attempt.signal);
    } catch (err) {
      resetProgress(sending);
      if (err instanceof CleanError) throw new ShownError(`${scrubTexts(form).failed || ""} ${err.message}`);
      if (!attempt.signal.aborted) throw err;
      say(scrubTexts(form).cancelled || "");
    } finally {
      onFileCancel(form, null);
    }
  }
}

async function submitReport(form) {
  const identity = identityOf(form); // before any work: a missing field is told at once
  const info = await reportInfo(form);
  const questions = (info.questionnaire && info.questionnaire.questions) || [];
  const answers = collectAnswers(form, questions);
  checkLimits(form, selectedFiles(form), info.limits);
  const excluded = Array.from(
    form.querySelectorAll('input[name="excluded_units"]:checked'),
    (el) => el.value,
  );
  const crypto = cryptoJobs(form);
  crypto.warm(); // loads while the last of the work is done
  const keeper = reportKeeper(form);

  // Usually ready long ago; if not, say how much work is left, and go on when it is done.
  const ticket = await keeper.take(preparing(form));

  // Clean, encrypt and send; if the readers changed meanwhile (409), wrap for the
  // new ones; if the reporter cancels a file, again without it.
  try {
    await withCancel(form, crypto, async (sending, progress, signal) => {
      const sent = await postReport({
        info,
        prepare: (fresh) => {
          say(msg(form, "msgEncrypting"));
          return crypto.run(
            "report",
            {
              info: fresh,
              ticket,
              answers,
              category: clearOf(form, answers, "category"),
              sector: clearOf(form, answers, "sector"),
              excludedSlugs: excluded,
              files: sending.map((s) => s.file),
              identity,
            },
            progress.encrypt,
          );
        },
        post: async (body) => {
          say(msg(form, "msgSending"));
          return await postBody(form, "/reports", body, progress.upload, signal);
        },
        fetchInfo: async () => {
          state.info = getJson(form, "/submission");
          return await state.info;
        },
      });
      return await expect(form, sent, [201]);
    });
  } catch (err) {
    keeper.start(); // a new ticket for the next try, prepared in the background
    throw err;
  }

  // Stored: show the receipt (receipt.js), drop the plaintext from the page.
  keeper.stop();
  form.reset();
  form.hidden = true;
  say("");
  showReceipt(ticket.receipt);
}

// ---------------------------------------------------------------- follow-up

/** A solved challenge, prepared while the page was open: {pow_challenge, pow_nonce}. */
async function solvedChallenge(form) {
  return await powKeeper(form).take(preparing(form));
}

async function openCase(form) {
  const field = form.elements.namedItem("receipt");
  const receipt = field && typeof field.value === "string" ? field.value : "";
  if (!receipt.trim()) {
    if (field && typeof field.focus === "function") field.focus();
    throw new ShownError(msg(form, "msgRequired"));
  }
  const pow = await solvedChallenge(form);
  say(msg(form, "msgWorking"));
  await expect(
    form,
    await api(form, "/followup/open", {
      method: "POST",
      headers: { "Content-Type": JSON_TYPE },
      body: JSON.stringify({ receipt, ...pow }),
    }),
    [200],
  );
  // The receipt leaves the page before it navigates.
  if (field) field.value = "";
  location.assign(form.dataset.next);
}

async function submitMessage(form) {
  const bodyField = form.elements.namedItem("body");
  const text = bodyField && typeof bodyField.value === "string" ? bodyField.value : "";
  const files = selectedFiles(form);
  if (!text.trim() && files.length === 0) {
    if (bodyField && typeof bodyField.focus === "function") bodyField.focus();
    throw new ShownError(msg(form, "msgRequired"));
  }
  const crypto = cryptoJobs(form);
  crypto.warm();
  const pow = await solvedChallenge(form);
  await withCancel(form, crypto, async (sending, progress, signal) => {
    say(msg(form, "msgEncrypting"));
    const body = await crypto.run(
      "message",
      {
        caseRecipient: form.dataset.caseRecipient,
        text,
        files: sending.map((s) => s.file),
        after: form.dataset.after || null,
      },
      progress.encrypt,
    );
    body.append("pow_challenge", pow.pow_challenge);
    body.append("pow_nonce", pow.pow_nonce);
    // The "protection request" box travels in clear, as on the form without JavaScript:
    // the server needs it to start the request's clock (its text stays encrypted).
    const protection = form.elements.namedItem("protection");
    if (protection && protection.checked) body.append("protection", "yes");
    say(msg(form, "msgSending"));
    await expect(form, await postBody(form, "/followup/messages", body, progress.upload, signal), [201]);
  });
  location.reload();
}

// ---------------------------------------------------------------- wiring

function enhance(form, handler) {
  if (!form || !form.dataset.api) return;
  let busy = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    if (typeof form.reportValidity === "function" && !form.reportValidity()) return;
    busy = true;
    setBusy(form, true);
    try {
      await handler(form);
    } catch (err) {
      showFailure(form, err);
    } finally {
      busy = false;
      setBusy(form, false);
    }
  });
}

/** The encryption worker loads once the reporter starts writing (a field takes the
 * focus, or changes) or picks a file: the reporter will need it, and it loads while
 * they type rather than after the click. */
function warmOnInput(form) {
  if (!form || !form.dataset.api) return;
  const warm = () => {
    try {
      cryptoJobs(form).warm();
    } catch (e) {
      // Tried again, with a message, when the form is sent.
    }
  };
  for (const type of ["focusin", "input", "change"]) form.addEventListener(type, warm, { once: true });
  watchFiles(form);
}

/** Start the proof of work (and, for a report, the ticket) as the page opens. */
function prepareEarly() {
  const report = document.getElementById("report-form");
  if (report && report.dataset.api && !report.hidden) {
    reportInfo(report).catch(() => {});
    reportKeeper(report).start();
    warmOnInput(report);
  }
  for (const id of ["open-case-form", "message-form"]) {
    const form = document.getElementById(id);
    if (form && form.dataset.api) {
      powKeeper(form).start();
      if (id === "message-form") warmOnInput(form);
    }
  }
}

function init() {
  enhance(document.getElementById("report-form"), submitReport);
  enhance(document.getElementById("message-form"), submitMessage);
  enhance(document.getElementById("open-case-form"), openCase);
  prepareEarly();
  initReceipt();
  // A language switch replaces the page's body (language.js): wire the new one.
  initLanguageSwitch(init);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", init);
} else {
  init();
}
