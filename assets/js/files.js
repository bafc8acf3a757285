// Liêm Chính intake: the files the reporter picked - what hidden information
// each carries, whether to remove it, and each file's progress and cancel
// button while it is encrypted and sent (issue 15).
//
// On the first `change` of a file field the page starts the scrub worker
// (scrub-worker.js, this origin; never loaded on a page where no file is
// picked), which reads each picked file and says what it carries (author,
// company, GPS position, camera, software, editing history, comment authors).
// The page lists them under the field, with a box "remove hidden information
// before sending", ticked by default: the reporter unticks it for a file that
// is evidence as it is. A file the list never saw (the field was filled by the
// language switch) is cleaned too: removal is the default, not an option.
// What the worker finds stays in this page; only the cleaned file is encrypted.
//
// Texts come from the server in the page's language: data-scrub-texts names a
// same-origin JSON file (app/intake/scrub_texts.py), fetched with the worker on
// the first pick, so the page without JavaScript does not carry them (issue 15).

const panels = new WeakMap(); // file input -> {entries, list}
let scrubWorker = null;
let nextJob = 1;
const jobs = new Map();

function fileInput(form) {
  return form.querySelector('input[type="file"][name="attachments"]');
}

// The texts fetched last: {url, promise, value}. Keyed by URL, since the
// language switch with JavaScript puts a form of the other language in place.
let loaded = { url: "", promise: null, value: {} };

/** Fetch the scrubber's texts once (data-scrub-texts); {} when they cannot be had. */
export function loadTexts(form) {
  const url = form.dataset.scrubTexts || "";
  if (!url || typeof fetch !== "function") return Promise.resolve({});
  if (loaded.url === url && loaded.promise) return loaded.promise;
  const mine = { url, promise: null, value: {} };
  mine.promise = fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((res) => (res.ok ? res.json() : Promise.reject(new Error(`texts: ${res.status}`))))
    .then(
      (value) => {
        mine.value = value && typeof value === "object" ? value : {};
        return mine.value;
      },
      () => {
        mine.promise = null; // asked again on the next pick
        return {};
      },
    );
  loaded = mine;
  return mine.promise;
}

/** The scrubber's texts in the page's language, once fetched ({} before). */
export function texts(form) {
  return loaded.url === (form.dataset.scrubTexts || "") ? loaded.value : {};
}

function worker(form) {
  if (scrubWorker) return scrubWorker;
  scrubWorker = new Worker(form.dataset.scrubWorker);
  scrubWorker.onmessage = (event) => {
    const m = event.data || {};
    const job = jobs.get(m.id);
    if (!job) return;
    jobs.delete(m.id);
    if (m.type === "done") job.resolve(m.result);
    else job.reject(new Error("scrub failed"));
  };
  scrubWorker.onerror = (event) => {
    if (event && typeof event.preventDefault === "function") event.preventDefault();
    for (const job of jobs.values()) job.reject(new Error("scrub worker failed"));
    jobs.clear();
    scrubWorker.terminate();
    scrubWorker = null;
  };
  return scrubWorker;
}

function scrubJob(form, op, file) {
  const w = worker(form);
  const id = nextJob++;
  return new Promise((resolve, reject) => {
    jobs.set(id, { resolve, reject });
    w.postMessage({ id, op, file });
  });
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// A date found in a file (EXIF "2013:12:23 23:15:00", ISO "2013-12-23T23:15:00Z", PDF
// "D:20131223231500") shown as the page shows dates: dd/mm/yyyy in Vietnamese, the
// month spelled out in English. The clock time stays as written in the file: it is the
// file's own, and the reporter should see what it gives away.
const META_DATE = /^(?:D:)?(\d{4})[-:]?(\d{2})[-:]?(\d{2})(?:[T ]?(\d{2}):?(\d{2}))?/;
function shownDate(value) {
  const m = META_DATE.exec(value || "");
  if (!m) return value;
  const [, y, mo, d, hh, mm] = m;
  const time = hh ? ` ${hh}:${mm}` : "";
  if (document.documentElement.lang === "vi") return `${d}/${mo}/${y}${time}`;
  const day = new Date(Date.UTC(+y, +mo - 1, +d)).toLocaleDateString("en-US", {
    month: "short",
    day: "numeric",
    year: "numeric",
    timeZone: "UTC",
  });
  return `${day}${time}`;
}

function describe(entry, t, result) {
  entry.result = result;
  const { findings, cleanable, partial, format } = result;
  entry.findings.replaceChildren();
  const shown = new Set(); // a created and a modified date often repeat each other
  for (const f of findings) {
    const label = (t.labels && t.labels[f.key]) || f.key;
    const value = f.key === "date" ? shownDate(f.value) : f.value;
    const line = value ? `${label}: ${value}` : label;
    if (shown.has(line)) continue;
    shown.add(line);
    entry.findings.append(el("li", "", line));
  }
  const notes = [];
  if (findings.length) notes.push(t.found || "");
  else if (cleanable) notes.push(t.none || "");
  if (!cleanable && format !== "other") notes.push(t.cannot || "");
  if (format === "other") notes.push(t.unknown || "");
  if (partial && cleanable) notes.push(t.partial || "");
  entry.status.textContent = notes.filter(Boolean).join(" ");
  entry.choice.hidden = !(cleanable && findings.length);
}

function removeFile(form, entry) {
  const input = fileInput(form);
  const panel = input && panels.get(input);
  if (!panel) return;
  entry.cancelled = true;
  panel.entries = panel.entries.filter((e) => e !== entry);
  entry.item.remove();
  if (typeof DataTransfer === "function") {
    const dt = new DataTransfer();
    for (const e of panel.entries) dt.items.add(e.file);
    input.files = dt.files;
  }
  if (panel.onCancel) panel.onCancel(entry);
}

async function build(form, input) {
  const pending = loadTexts(form);
  if (input.files && input.files.length) worker(form); // loads alongside the texts
  const t = await pending;
  const old = document.getElementById(`${form.id}-files`);
  if (old) old.remove();
  const list = el("ul", "file-list");
  list.id = `${form.id}-files`;
  const panel = { list, entries: [], onCancel: null };
  for (const file of Array.from(input.files || [])) {
    const item = el("li", "file-item");
    const name = el("span", "file-name", String(file.name || ""));
    const status = el("span", "file-status", t.checking || "");
    const findings = el("ul", "file-findings");
    const choice = el("label", "check");
    const box = el("input");
    box.type = "checkbox";
    box.checked = true;
    choice.append(box, " ", t.remove || "");
    choice.hidden = true;
    const progress = el("progress");
    progress.max = 2; // encryption 0..1, then sending 1..2
    progress.setAttribute("aria-label", String(file.name || ""));
    progress.value = 0;
    progress.hidden = true;
    const cancel = el("button", "secondary file-cancel", t.cancel || "");
    cancel.type = "button";
    cancel.setAttribute("aria-label", `${t.cancel || ""}: ${file.name}`);
    item.append(name, " ", status, findings, choice, progress, cancel);
    list.append(item);
    const entry = { file, item, status, findings, choice, box, progress, cancel, cancelled: false, result: null };
    entry.inspected = scrubJob(form, "inspect", file).then(
      (result) => describe(entry, t, result),
      () => describe(entry, t, { format: "other", cleanable: false, partial: false, findings: [] }),
    );
    cancel.addEventListener("click", () => removeFile(form, entry));
    panel.entries.push(entry);
  }
  input.insertAdjacentElement("afterend", list);
  panels.set(input, panel);
}

/** Show, for each file picked in `form`, what it carries (the scrub worker loads now). */
export function watchFiles(form) {
  const input = form && form.dataset.scrubWorker ? fileInput(form) : null;
  if (!input || typeof document.createElement !== "function") return;
  input.addEventListener("change", () => build(form, input));
  // Files already there (moved over by the language switch): listed at once.
  if (input.files && input.files.length) build(form, input);
}

function entryFor(form, file) {
  const input = fileInput(form);
  const panel = input && panels.get(input);
  return panel ? panel.entries.find((e) => e.file === file) || null : null;
}

/** Call `onCancel(entry)` when the reporter cancels a file while it is being sent. */
export function onFileCancel(form, onCancel) {
  const input = fileInput(form);
  const panel = input && panels.get(input);
  if (panel) panel.onCancel = onCancel;
}

/**
 * The files to encrypt: each one cleaned, unless its box was unticked.
 * Returns [{file, entry}] (entry null when the page shows no list). Throws
 * Error(name) when a file cannot be cleaned although it should be.
 */
export async function filesToSend(form, files) {
  const out = [];
  for (const file of files) {
    const entry = entryFor(form, file);
    if (!form.dataset.scrubWorker) {
      out.push({ file, entry });
      continue;
    }
    let result = entry ? (await entry.inspected, entry.result) : null;
    if (!entry) result = await scrubJob(form, "inspect", file).catch(() => null);
    const wanted = !entry || entry.box.checked;
    if (!result || !result.cleanable || !result.findings.length || !wanted) {
      out.push({ file, entry });
      continue;
    }
    let blob;
    try {
      blob = await scrubJob(form, "clean", file);
    } catch (e) {
      throw new CleanError(String(file.name || ""));
    }
    out.push({ file: new File([blob], file.name, { type: file.type }), entry });
  }
  return out;
}

export class CleanError extends Error {}

/** Progress callbacks for the files being sent: encryption, then upload. */
export function sendProgress(sending, t) {
  for (const { entry } of sending) {
    if (!entry) continue;
    entry.progress.hidden = false;
    entry.progress.value = 0;
  }
  const bar = (i) => sending[i] && sending[i].entry && sending[i].entry.progress;
  return {
    encrypt({ file, done, total }) {
      const b = bar(file);
      if (b && total > 0) {
        b.value = Math.min(1, done / total);
        if (t && t.encrypting) sending[file].entry.status.textContent = t.encrypting;
      }
    },
    /** `sizes`: the encrypted attachments' sizes, the last parts of the body. Once the
     * whole body is out, cancelling could only lose the answer of a stored report:
     * the cancel buttons are disabled. */
    upload(loaded, total, sizes) {
      if (loaded >= total) for (const { entry } of sending) if (entry) entry.cancel.disabled = true;
      let start = total - sizes.reduce((n, s) => n + s, 0);
      sizes.forEach((size, i) => {
        const b = bar(i);
        if (b) {
          b.value = 1 + Math.min(1, Math.max(0, (loaded - start) / Math.max(1, size)));
          if (t && t.sending) sending[i].entry.status.textContent = t.sending;
        }
        start += size;
      });
    },
  };
}

/** After a send: hide the progress of the files that remain (a failed try). */
export function resetProgress(sending) {
  for (const { entry } of sending) {
    if (!entry) continue;
    entry.progress.hidden = true;
    entry.cancel.disabled = false;
  }
}
