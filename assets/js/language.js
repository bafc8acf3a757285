// Liêm Chính intake: changing the language of the report page in the browser.
//
// A language link would load an empty form and lose what the reporter typed,
// or the receipt they were just given. Without JavaScript the language buttons
// post the form to /report/language, which renders it again in the other
// language (app/intake/language.py). With JavaScript that would send the
// report's plaintext to the server, which this page never does. So instead:
// fetch the empty report page in the other language (a GET with no body; the
// server remembers the choice in the session), then move into it, here, what
// the current page holds - every answer, the chosen files (through a
// DataTransfer) and, after a submission, the receipt - and put it in place of
// the current page. Nothing of the form leaves the browser.

import { receiptState, showReceipt } from "./receipt.js";

const SKIPPED_TYPES = new Set(["hidden", "submit", "button", "reset", "image", "file"]);
const TOKENS = new Set(["csrf_token", "form_nonce"]);

let switching = false;

function isChoice(el) {
  return el.type === "checkbox" || el.type === "radio";
}

/** Everything the reporter entered in `form`, without sending or storing it. */
function captureForm(form) {
  const fields = [];
  const files = new Map();
  const seen = new Map();
  for (const el of Array.from(form.elements)) {
    if (!el.name || TOKENS.has(el.name)) continue;
    if (el.type === "file") {
      files.set(el.name, el.files ? Array.from(el.files) : []);
      continue;
    }
    if (SKIPPED_TYPES.has(el.type)) continue;
    const index = seen.get(el.name) || 0;
    seen.set(el.name, index + 1);
    if (isChoice(el)) {
      fields.push({ name: el.name, value: el.value, checked: el.checked, choice: true });
    } else if (el instanceof HTMLSelectElement) {
      fields.push({ name: el.name, index, selected: Array.from(el.selectedOptions, (o) => o.value) });
    } else {
      fields.push({ name: el.name, index, value: el.value });
    }
  }
  return { fields, files };
}

function restoreForm(form, { fields, files }) {
  const seen = new Map();
  for (const el of Array.from(form.elements)) {
    if (!el.name || TOKENS.has(el.name)) continue;
    if (el.type === "file") {
      const chosen = files.get(el.name) || [];
      if (chosen.length && typeof DataTransfer === "function") {
        const transfer = new DataTransfer();
        for (const file of chosen) transfer.items.add(file);
        el.files = transfer.files;
      }
      continue;
    }
    if (SKIPPED_TYPES.has(el.type)) continue;
    const index = seen.get(el.name) || 0;
    seen.set(el.name, index + 1);
    if (isChoice(el)) {
      const was = fields.find((f) => f.choice && f.name === el.name && f.value === el.value);
      if (was) el.checked = was.checked;
      continue;
    }
    const was = fields.find((f) => !f.choice && f.name === el.name && f.index === index);
    if (!was) continue;
    if (el instanceof HTMLSelectElement) {
      for (const option of Array.from(el.options)) option.selected = was.selected.includes(option.value);
    } else {
      el.value = was.value;
    }
  }
}

function failed(form) {
  const box = document.getElementById("js-status");
  if (box) box.textContent = form.dataset.msgLanguageFailed || "";
}

async function switchLanguage(trigger, onSwitched) {
  const form = document.getElementById("report-form");
  if (!form || switching || form.getAttribute("aria-busy") === "true") return;
  const href = trigger.dataset.href;
  if (!href) return;
  switching = true;
  try {
    const res = await fetch(href, {
      method: "GET",
      credentials: "same-origin",
      cache: "no-store",
      redirect: "error",
      headers: { Accept: "text/html" },
    });
    if (!res.ok) throw new Error(`language switch: HTTP ${res.status}`);
    const next = new DOMParser().parseFromString(await res.text(), "text/html");
    if (!next.getElementById("report-form") || !next.body) throw new Error("language switch: no form");
    for (const script of Array.from(next.querySelectorAll("script"))) script.remove();

    const entered = captureForm(form);
    const receipt = receiptState();
    const inSwitch = Boolean(trigger.closest("#switch-language"));
    const scroll = window.scrollY;

    document.documentElement.lang = next.documentElement.lang;
    document.title = next.title;
    document.body.replaceWith(document.adoptNode(next.body));

    const fresh = document.getElementById("report-form");
    restoreForm(fresh, entered);
    onSwitched();
    if (receipt) {
      // After a submission the form stays empty and hidden; only the receipt moves over.
      fresh.reset();
      fresh.hidden = true;
      showReceipt(receipt.code, { written: receipt.written, focus: false });
    }
    window.scrollTo(0, scroll);
    const again = Array.from(document.querySelectorAll("[data-switch-language]")).find(
      (el) => Boolean(el.closest("#switch-language")) === inSwitch,
    );
    if (again && typeof again.focus === "function") again.focus({ preventScroll: true });
  } catch (e) {
    failed(form);
  } finally {
    switching = false;
  }
}

/** Wire the language choices of the report page; `onSwitched` re-wires the new page. */
export function initLanguageSwitch(onSwitched) {
  if (!document.getElementById("report-form")) return;
  for (const el of Array.from(document.querySelectorAll("[data-switch-language]"))) {
    el.addEventListener("click", (event) => {
      event.preventDefault();
      switchLanguage(el, onSwitched);
    });
  }
}
