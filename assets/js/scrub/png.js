// Liêm Chính scrubber: PNG. The text chunks (tEXt, zTXt, iTXt: author,
// software, comments), eXIf (camera, GPS) and tIME (last change) go; the
// picture's chunks stay. The same rules as the server's (app/intake/hidden_info.py).

import { exifFindings } from "./exif.js";
import { concat } from "./jpeg.js";

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const DROPPED = new Set(["tEXt", "zTXt", "iTXt", "eXIf", "tIME"]);
const TEXT_KEYS = { author: "author", software: "software", "creation time": "date", copyright: "author", comment: "comment" };

export function isPng(b) {
  return b.length >= 8 && SIGNATURE.every((v, i) => b[i] === v);
}

function chunks(b) {
  const list = [];
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let i = 8;
  while (i + 12 <= b.length) {
    const length = view.getUint32(i);
    const type = String.fromCharCode(b[i + 4], b[i + 5], b[i + 6], b[i + 7]);
    const end = Math.min(b.length, i + 12 + length);
    list.push({ type, start: i, end, data: b.subarray(i + 8, Math.min(b.length, i + 8 + length)) });
    i = end;
  }
  return { list, rest: i };
}

function textFinding(type, data) {
  const nul = data.indexOf(0);
  const keyword = new TextDecoder("latin1").decode(data.subarray(0, nul < 0 ? data.length : nul));
  let value = "";
  if (type === "tEXt" && nul >= 0) value = new TextDecoder("latin1").decode(data.subarray(nul + 1));
  if (type === "iTXt" && nul >= 0 && data[nul + 1] === 0) {
    // keyword \0 flag method language \0 translated keyword \0 text
    const lang = data.indexOf(0, nul + 3);
    const translated = lang < 0 ? -1 : data.indexOf(0, lang + 1);
    if (translated >= 0) value = new TextDecoder().decode(data.subarray(translated + 1));
  }
  const key = TEXT_KEYS[keyword.toLowerCase()] || "text";
  return { key, value: key === "text" ? `${keyword}${value ? ": " + value : ""}` : value || keyword };
}

export function inspectPng(b) {
  const findings = [];
  for (const { type, data } of chunks(b).list) {
    if (type === "tEXt" || type === "zTXt" || type === "iTXt") findings.push(textFinding(type, data));
    else if (type === "eXIf") findings.push(...exifFindings(data));
    else if (type === "tIME") findings.push({ key: "date", value: "" });
  }
  return findings;
}

export function cleanPng(b) {
  const { list, rest } = chunks(b);
  const parts = [b.subarray(0, 8)];
  for (const { type, start, end } of list) if (!DROPPED.has(type)) parts.push(b.subarray(start, end));
  parts.push(b.subarray(rest));
  return concat(parts);
}
