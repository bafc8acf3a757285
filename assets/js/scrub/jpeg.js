// Liêm Chính scrubber: JPEG. Every APPn segment but APP0 (JFIF), APP2
// ICC_PROFILE (colours) and APP14 Adobe (how CMYK is decoded) goes, with every
// COM segment; EXIF is replaced by a minimal one keeping only the orientation,
// so the photo is not shown sideways. From the first SOS (the picture) on,
// the bytes are copied: metadata after it is rare, and finding it would mean
// decoding the picture. The same rules as the server's (app/intake/hidden_info.py).

import { exifFindings, exifHasMore, exifOrientation, minimalExifSegment } from "./exif.js";

const SOS = 0xda;
const COM = 0xfe;
const ascii = (b, from, n) => String.fromCharCode(...b.subarray(from, Math.min(b.length, from + n)));

export function isJpeg(b) {
  return b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/** The segments before the picture: [{marker, start, end, payload}], then the rest. */
function segments(b) {
  const list = [];
  let i = 2;
  while (i + 1 < b.length) {
    if (b[i] !== 0xff) break;
    let m = i + 1;
    while (m < b.length && b[m] === 0xff) m++;
    const marker = b[m];
    if (marker === SOS || m + 2 >= b.length) break;
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9)) {
      list.push({ marker, start: i, end: m + 1, payload: b.subarray(m + 1, m + 1) });
      i = m + 1;
      continue;
    }
    const length = (b[m + 1] << 8) | b[m + 2];
    if (length < 2) break;
    const end = Math.min(b.length, m + 1 + length);
    list.push({ marker, start: i, end, payload: b.subarray(m + 3, end) });
    i = end;
  }
  return { list, rest: i };
}

/** Why a segment goes ("" when it stays), as a finding key. */
function removal(marker, payload) {
  if (marker === COM) return "comment";
  if (marker < 0xe0 || marker > 0xef) return "";
  if (marker === 0xe0) return "";
  if (marker === 0xe2 && ascii(payload, 0, 12) === "ICC_PROFILE\0") return "";
  if (marker === 0xee && ascii(payload, 0, 5) === "Adobe") return "";
  if (marker === 0xe1) return ascii(payload, 0, 6) === "Exif\0\0" ? "exif" : "history";
  if (marker === 0xed) return "iptc";
  return "other";
}

export function inspectJpeg(b) {
  const findings = [];
  for (const { marker, payload } of segments(b).list) {
    const why = removal(marker, payload);
    if (why === "exif") {
      const found = exifFindings(payload.subarray(6));
      if (found.length) findings.push(...found);
      else if (exifHasMore(payload.subarray(6))) findings.push({ key: "other", value: "EXIF" });
    } else if (why === "comment") {
      findings.push({ key: "comment", value: new TextDecoder().decode(payload).slice(0, 200) });
    } else if (why) {
      findings.push({ key: why, value: "" });
    }
  }
  return findings;
}

export function cleanJpeg(b) {
  const { list, rest } = segments(b);
  const parts = [b.subarray(0, 2)];
  for (const { marker, start, end, payload } of list) {
    const why = removal(marker, payload);
    if (!why) parts.push(b.subarray(start, end));
    else if (why === "exif") {
      const orientation = exifOrientation(payload.subarray(6));
      if (orientation) parts.push(minimalExifSegment(orientation));
    }
  }
  parts.push(b.subarray(rest));
  return concat(parts);
}

export function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
