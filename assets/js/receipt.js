// Liêm Chính intake: the receipt section (#receipt-view), which must not be lost.
//
// The receipt code is shown once and stored nowhere: if the reporter leaves
// the page before writing it down, their report is out of their reach for
// ever. So, with JavaScript:
//   * copy and print buttons (print: site.css keeps only the code and the
//     instructions on paper);
//   * "continue" stays disabled until the box "I have written down my code"
//     is ticked;
//   * leaving the page while the receipt is shown and the box is not ticked
//     asks the browser to confirm (beforeunload).
// The code is never sent anywhere by this file, nor kept in any storage.

let guardInstalled = false;
let leaving = false;

function byId(id) {
  return document.getElementById(id);
}

function receiptShown() {
  const view = byId("receipt-view");
  const code = byId("receipt-code");
  return Boolean(view && !view.hidden && code && code.textContent.trim());
}

function writtenDown() {
  const box = byId("receipt-written");
  return Boolean(box && box.checked);
}

/** The receipt is on screen and not confirmed as written down. */
export function receiptAtRisk() {
  return receiptShown() && !writtenDown();
}

function onBeforeUnload(event) {
  if (leaving || !receiptAtRisk()) return;
  event.preventDefault();
  event.returnValue = ""; // older browsers need a value to ask
}

function updateContinue() {
  const button = byId("receipt-continue");
  if (button) button.disabled = !writtenDown();
}

function tell(text) {
  const box = byId("receipt-tools-status");
  if (box) box.textContent = text || "";
}

function selectCode(code) {
  const selection = typeof window.getSelection === "function" ? window.getSelection() : null;
  if (!selection || typeof document.createRange !== "function") return false;
  const range = document.createRange();
  range.selectNodeContents(code);
  selection.removeAllRanges();
  selection.addRange(range);
  return true;
}

async function copyCode() {
  const view = byId("receipt-view");
  const code = byId("receipt-code");
  if (!view || !code) return;
  const text = code.textContent.trim();
  let copied = false;
  try {
    if (navigator.clipboard && typeof navigator.clipboard.writeText === "function") {
      await navigator.clipboard.writeText(text);
      copied = true;
    }
  } catch (e) {
    copied = false;
  }
  if (!copied && selectCode(code) && typeof document.execCommand === "function") {
    try {
      copied = document.execCommand("copy");
    } catch (e) {
      copied = false;
    }
  }
  tell(copied ? view.dataset.msgCopied : view.dataset.msgCopyFailed);
}

/**
 * Show `code` in the receipt section of the report page (after a JavaScript
 * submission, or after a language switch that kept the receipt).
 */
export function showReceipt(code, { written = false, focus = true } = {}) {
  const view = byId("receipt-view");
  const out = byId("receipt-code");
  if (out) out.textContent = code;
  const box = byId("receipt-written");
  if (box) box.checked = Boolean(written);
  updateContinue();
  if (document.body && document.body.classList) document.body.classList.add("receipt-page");
  if (!view) return;
  // The same page as the one the server renders after a form post: the receipt
  // alone, under its own title, nothing of the form above it.
  const main = view.parentElement;
  if (main && main.children) {
    for (const el of Array.from(main.children)) if (el !== view) el.hidden = true;
  }
  if (view.dataset && view.dataset.title) document.title = view.dataset.title;
  const heading = typeof view.querySelector === "function" ? view.querySelector("h2") : null;
  if (heading && typeof document.createElement === "function") {
    const h1 = document.createElement("h1");
    h1.textContent = heading.textContent;
    heading.replaceWith(h1);
  }
  view.hidden = false;
  if (focus) {
    if (view.hasAttribute("tabindex") && typeof view.focus === "function") view.focus();
    if (typeof view.scrollIntoView === "function") view.scrollIntoView();
  }
}

/** What a language switch must carry over: the code and the tick, or null. */
export function receiptState() {
  return receiptShown() ? { code: byId("receipt-code").textContent.trim(), written: writtenDown() } : null;
}

/** Wire the receipt section of this page (safe to call again after the page body changed). */
export function initReceipt() {
  if (!guardInstalled && typeof window !== "undefined" && typeof window.addEventListener === "function") {
    window.addEventListener("beforeunload", onBeforeUnload);
    guardInstalled = true;
  }
  const view = byId("receipt-view");
  if (!view) return;
  const tools = byId("receipt-tools");
  if (tools) tools.hidden = false;
  const copy = byId("receipt-copy");
  if (copy) copy.addEventListener("click", copyCode);
  const print = byId("receipt-print");
  if (print) print.addEventListener("click", () => window.print());
  const box = byId("receipt-written");
  if (box) box.addEventListener("change", updateContinue);
  updateContinue();
  const button = byId("receipt-continue");
  if (button && button.dataset.href) {
    // The report page after a JavaScript submission: nothing to post, just go on.
    button.addEventListener("click", () => {
      if (!writtenDown()) return;
      leaving = true;
      window.location.assign(button.dataset.href);
    });
  }
  const form = byId("receipt-form");
  if (form) {
    // The page rendered by the server: its language and continue buttons post the
    // code back and render it again, so they are not "leaving" it.
    form.addEventListener("submit", () => {
      leaving = true;
    });
  }
}
