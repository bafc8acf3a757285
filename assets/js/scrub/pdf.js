// Liêm Chính scrubber: PDF. The document information dictionary (author,
// creator software, dates, title) and the XMP metadata packet are blanked IN
// PLACE: every byte keeps its offset, so the cross-reference table stays right
// and the file needs no rewrite (a PDF library able to rewrite any PDF would
// weigh more than the rest of the page's scripts together). Strings become
// spaces ("( )" reads as a blank value); the XMP packet becomes an empty
// <x:xmpmeta/> padded with spaces, which XMP allows.
//
// What cannot be done this way is reported as "partial": an information
// dictionary or metadata stream inside a compressed object stream, and
// metadata inside embedded pictures.

const SPACE = 0x20;
const INFO_KEYS = {
  Author: "author",
  Creator: "software",
  Producer: "software",
  Title: "title",
  Subject: "title",
  Keywords: "text",
  CreationDate: "date",
  ModDate: "date",
  Company: "company",
  Manager: "author",
};
const XMP_OPEN = "<x:xmpmeta";
const XMP_CLOSE = "</x:xmpmeta>";
const XMP_EMPTY = '<x:xmpmeta xmlns:x="adobe:ns:meta/"/>';

export function isPdf(b) {
  return b.length > 5 && String.fromCharCode(...b.subarray(0, 5)) === "%PDF-";
}

// windows-1252 decodes one byte to one character: offsets in the text are byte offsets.
const asText = (b) => new TextDecoder("windows-1252").decode(b);

/** The end (index of ")") of the literal string whose "(" is at `open`. */
function literalEnd(s, open) {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (c === "\\") i++;
    else if (c === "(") depth++;
    else if (c === ")" && --depth === 0) return i;
  }
  return -1;
}

/** The bytes of a literal string's body (between its parentheses), escapes undone. */
function decodeLiteral(raw) {
  const bytes = [];
  const ESCAPES = { 0x6e: 10, 0x72: 13, 0x74: 9, 0x62: 8, 0x66: 12 }; // n r t b f
  for (let i = 0; i < raw.length; i++) {
    let c = raw[i];
    if (c === 0x5c && i + 1 < raw.length) {
      const n = raw[++i];
      if (n >= 0x30 && n <= 0x37) {
        let value = 0;
        let digits = 0;
        while (digits < 3 && i < raw.length && raw[i] >= 0x30 && raw[i] <= 0x37) {
          value = value * 8 + (raw[i] - 0x30);
          i++;
          digits++;
        }
        i--;
        c = value & 0xff;
      } else c = ESCAPES[n] ?? n;
    }
    bytes.push(c);
  }
  return decodeBytes(Uint8Array.from(bytes));
}

function decodeBytes(bytes) {
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes.subarray(2));
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return new TextDecoder().decode(bytes.subarray(3));
  return new TextDecoder("windows-1252").decode(bytes);
}

function decodeHex(raw) {
  const hex = raw.replace(/[^0-9a-fA-F]/g, "");
  const bytes = new Uint8Array(Math.ceil(hex.length / 2));
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt((hex.slice(2 * i, 2 * i + 2) + "0").slice(0, 2), 16);
  return decodeBytes(bytes);
}

/** [start, end) of each "N G obj … endobj" that a trailer names as /Info. */
function infoRanges(s) {
  const ranges = [];
  const refs = new Set();
  for (const m of s.matchAll(/\/Info\s+(\d+)\s+(\d+)\s+R/g)) refs.add(`${m[1]} ${m[2]}`);
  let missing = false;
  for (const ref of refs) {
    const [n, g] = ref.split(" ");
    const re = new RegExp(`(^|[^0-9])${n}\\s+${g}\\s+obj\\b`, "g");
    let found = false;
    for (const m of s.matchAll(re)) {
      const start = m.index + m[1].length;
      const end = s.indexOf("endobj", start);
      if (end > start) {
        ranges.push([start, end]);
        found = true;
      }
    }
    if (!found) missing = true; // in a compressed object stream
  }
  return { ranges, missing };
}

/** Each string value of an information dictionary: {name, open, close, value}. */
function infoValues(b, s, [start, end]) {
  const out = [];
  const re = /\/([A-Za-z]+)\s*(\(|<(?!<))/g;
  re.lastIndex = start;
  for (let m = re.exec(s); m && m.index < end; m = re.exec(s)) {
    const open = m.index + m[0].length - 1;
    const close = m[2] === "(" ? literalEnd(s, open) : s.indexOf(">", open);
    if (close < 0 || close > end) break;
    const value = m[2] === "(" ? decodeLiteral(b.subarray(open + 1, close)) : decodeHex(s.slice(open + 1, close));
    out.push({ name: m[1], open, close, value });
    re.lastIndex = close + 1;
  }
  return out;
}

function xmpRanges(s) {
  const out = [];
  for (let at = s.indexOf(XMP_OPEN); at >= 0; at = s.indexOf(XMP_OPEN, at + 1)) {
    const close = s.indexOf(XMP_CLOSE, at);
    if (close < 0) break;
    out.push([at, close + XMP_CLOSE.length]);
    at = close;
  }
  return out;
}

function xmpFindings(packet) {
  const out = [{ key: "history", value: "" }];
  const creator = /<dc:creator>([\s\S]*?)<\/dc:creator>/.exec(packet);
  if (creator) {
    const names = [...creator[1].matchAll(/<rdf:li[^>]*>([^<]*)<\/rdf:li>/g)].map((m) => m[1].trim());
    if (names.length) out.push({ key: "author", value: names.join(", ") });
  }
  return out;
}

function compressedMetadata(s) {
  return /\/Type\s*\/Metadata\b[^>]*\/Filter|\/Filter[^>]*\/Type\s*\/Metadata\b/.test(s);
}

export function inspectPdf(b) {
  const s = asText(b);
  const findings = [];
  const { ranges, missing } = infoRanges(s);
  for (const range of ranges) {
    for (const { name, value } of infoValues(b, s, range)) {
      if (value.trim()) findings.push({ key: INFO_KEYS[name] || "other", value: value.trim().slice(0, 200) });
    }
  }
  // XMP is UTF-8 (the offsets found in the one-byte text are byte offsets).
  for (const [a, z] of xmpRanges(s)) findings.push(...xmpFindings(new TextDecoder().decode(b.subarray(a, z))));
  return { findings, partial: missing || compressedMetadata(s) || /\/ObjStm\b/.test(s) };
}

export function cleanPdf(b) {
  const s = asText(b);
  const out = Uint8Array.from(b);
  for (const range of infoRanges(s).ranges) {
    for (const { open, close } of infoValues(b, s, range)) out.fill(SPACE, open + 1, close);
  }
  for (const [a, z] of xmpRanges(s)) {
    out.fill(SPACE, a, z);
    if (z - a >= XMP_EMPTY.length) for (let i = 0; i < XMP_EMPTY.length; i++) out[a + i] = XMP_EMPTY.charCodeAt(i);
  }
  return out;
}
