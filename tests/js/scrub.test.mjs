// The hidden-information scrubber (assets/js/scrub/), on real files made by
// Pillow, python-docx and pypdf (tests/js/hidden_info_files.py), and read back
// with the same libraries after cleaning. Skipped without the project's Python.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

import { clean, inspect } from "../../assets/js/scrub/index.js";
import { cleanPeople, emptyRoot } from "../../assets/js/scrub/ooxml.js";
import { crc32 } from "../../assets/js/scrub/zip.js";

const ROOT = resolve(import.meta.dirname, "../..");
const PYTHON = join(ROOT, ".venv/bin/python");
const SCRIPT = join(ROOT, "tests/js/hidden_info_files.py");
const skip = existsSync(PYTHON) ? false : "the project's Python (.venv) is not installed";
const AUTHOR = "Nguyễn Văn Đức";

const files = skip
  ? {}
  : Object.fromEntries(
      Object.entries(JSON.parse(execFileSync(PYTHON, [SCRIPT, "make"], { encoding: "utf8" }))).map(([k, v]) => [
        k,
        new Uint8Array(Buffer.from(v, "base64")),
      ]),
    );

function readBack(kind, bytes) {
  return JSON.parse(execFileSync(PYTHON, [SCRIPT, "read", kind], { input: Buffer.from(bytes), encoding: "utf8" }));
}

async function cleaned(bytes) {
  return new Uint8Array(await (await clean(bytes)).arrayBuffer());
}

const keys = (found) => new Set(found.findings.map((f) => f.key));
const valueOf = (found, key) => found.findings.filter((f) => f.key === key).map((f) => f.value).join(" | ");

test("JPEG: camera, author, GPS, XMP, IPTC and comment shown, then removed; orientation and colours kept", { skip }, async () => {
  const found = await inspect(files.jpeg);
  assert.equal(found.format, "jpeg");
  assert.ok(found.cleanable);
  for (const k of ["camera", "author", "gps", "software", "history", "iptc", "comment"]) assert.ok(keys(found).has(k), k);
  assert.match(valueOf(found, "author"), new RegExp(AUTHOR));
  assert.match(valueOf(found, "gps"), /^10\.03417, 105\.78333$/);

  const before = readBack("jpeg", files.jpeg); // positive control
  assert.ok(before.gps && before.exif["315"]);
  const after = readBack("jpeg", await cleaned(files.jpeg));
  assert.deepEqual(after.exif, { 274: "6" });
  assert.equal(after.gps, false);
  assert.ok(after.icc);
  assert.deepEqual(after.size, before.size);
  assert.deepEqual((await inspect(await cleaned(files.jpeg))).findings, []);
});

test("PNG: text chunks shown, then removed", { skip }, async () => {
  const found = await inspect(files.png);
  assert.equal(valueOf(found, "author"), AUTHOR);
  assert.equal(valueOf(found, "camera"), "Camera Can Tho X9"); // the eXIf chunk
  assert.equal(readBack("png", files.png).text.Author, AUTHOR);
  const out = await cleaned(files.png);
  const after = readBack("png", out);
  assert.deepEqual(after.text, {});
  assert.deepEqual(after.exif, {});
  assert.deepEqual((await inspect(out)).findings, []);
  assert.deepEqual(after.size, [8, 8]);
});

test("DOCX: the author and comment author are shown, then removed; the text stays", { skip }, async () => {
  const found = await inspect(files.docx);
  assert.equal(found.format, "office");
  assert.match(valueOf(found, "author"), new RegExp(AUTHOR));
  assert.equal(valueOf(found, "comment_authors"), "Lê Văn Đạt");
  const before = readBack("docx", files.docx);
  assert.equal(before.author, AUTHOR);
  assert.deepEqual(before.comments, [["Lê Văn Đạt", "LVĐ", "xem lại số liệu"]]);
  const out = await cleaned(files.docx);
  const after = readBack("docx", out);
  assert.equal(after.author, "");
  assert.equal(after.last_modified_by, "");
  assert.equal(after.text, "Biên bản họp ngày 15/9");
  assert.deepEqual(after.comments, [["", "", "xem lại số liệu"]]); // the comment stays, its author goes
  assert.deepEqual((await inspect(out)).findings, []);
});

test("PDF: the information dictionary is shown, then blanked in place", { skip }, async () => {
  const found = await inspect(files.pdf);
  assert.equal(valueOf(found, "author"), AUTHOR);
  assert.equal(readBack("pdf", files.pdf).author, AUTHOR);
  const out = await cleaned(files.pdf);
  assert.equal(out.length, files.pdf.length);
  const after = readBack("pdf", out);
  assert.equal(after.author, "");
  assert.equal(after.creator, "");
  assert.equal(after.pages, 1);
});

test("PDF: an XMP packet becomes an empty one of the same length", async () => {
  const xmp = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><dc:creator><rdf:Seq><rdf:li>Trần Thị Ưng</rdf:li></rdf:Seq></dc:creator></rdf:RDF></x:xmpmeta>';
  const pdf = new TextEncoder().encode(`%PDF-1.7\n5 0 obj\n<< /Type /Metadata /Subtype /XML >>\nstream\n${xmp}\nendstream\nendobj\n%%EOF\n`);
  const found = await inspect(pdf);
  assert.equal(valueOf(found, "author"), "Trần Thị Ưng");
  assert.ok(keys(found).has("history"));
  const out = await cleaned(pdf);
  assert.equal(out.length, pdf.length);
  const text = new TextDecoder().decode(out);
  assert.ok(!text.includes("Trần"));
  assert.match(text, /stream\n<x:xmpmeta xmlns:x="adobe:ns:meta\/"\/> +\nendstream/);
});

test("PDF: a UTF-16 literal string written as raw bytes is read and blanked", async () => {
  const name = "Ưng ƀ"; // U+0180: a byte (0x80) that windows-1252 would turn into "€"
  const utf16 = [0xfe, 0xff, ...[...name].flatMap((c) => [c.charCodeAt(0) >> 8, c.charCodeAt(0) & 0xff])];
  const ascii = (t) => [...new TextEncoder().encode(t)];
  const pdf = Uint8Array.from([
    ...ascii("%PDF-1.4\n1 0 obj\n<< /Author ("),
    ...utf16,
    ...ascii(") /Producer (x\\(y\\)) >>\nendobj\ntrailer\n<< /Info 1 0 R >>\n%%EOF\n"),
  ]);
  const found = await inspect(pdf);
  assert.equal(valueOf(found, "author"), name);
  assert.equal(valueOf(found, "software"), "x(y)");
  const out = await cleaned(pdf);
  assert.equal(out.length, pdf.length);
  assert.deepEqual((await inspect(out)).findings, []);
});

test("comment authors and tracked changes lose their names", () => {
  const xml =
    '<w:comments><w:comment w:id="0" w:author="Trần Thị Ưng" w:initials="TTU"><w:p/></w:comment></w:comments>' +
    '<w:ins w:id="1" w:author="Lê Văn Đạt" w:date="2025-09-15T10:00:00Z"/><authors><author>Phạm Ủy</author></authors>';
  const out = cleanPeople(xml);
  for (const name of ["Trần Thị Ưng", "TTU", "Lê Văn Đạt", "Phạm Ủy"]) assert.ok(xml.includes(name) && !out.includes(name), name);
  assert.match(out, /w:author=""/);
});

test("document properties keep only their empty root", () => {
  const xml = '<?xml version="1.0"?>\n<cp:coreProperties xmlns:cp="urn:x"><dc:creator>Đức</dc:creator></cp:coreProperties>';
  assert.equal(emptyRoot(xml), '<?xml version="1.0"?><cp:coreProperties xmlns:cp="urn:x"></cp:coreProperties>');
});

test("unknown and HEIC files are not cleanable; CRC-32 matches the reference value", async () => {
  assert.deepEqual(await inspect(new TextEncoder().encode("biên bản họp")), {
    format: "other",
    cleanable: false,
    partial: false,
    findings: [],
  });
  const heic = new Uint8Array([0, 0, 0, 24, ...new TextEncoder().encode("ftypheic"), 0, 0, 0, 0]);
  const found = await inspect(heic);
  assert.equal(found.format, "heic");
  assert.equal(found.cleanable, false);
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
});
