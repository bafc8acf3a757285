// Liêm Chính scrubber: reading an EXIF (TIFF) block for what it says about the
// reporter (camera, author, software, dates, GPS), and writing the minimal EXIF
// that keeps a photo's orientation (app/intake/hidden_info.py writes the same).

const TAGS = {
  0x010f: "camera", // Make
  0x0110: "camera", // Model
  0x013b: "author", // Artist
  0x8298: "author", // Copyright
  0x9c9d: "author", // XPAuthor (UTF-16)
  0x0131: "software",
  0x0132: "date", // DateTime
  0x9003: "date", // DateTimeOriginal (Exif IFD)
  0xa431: "camera", // BodySerialNumber
  0xa434: "camera", // LensModel
  0x9286: "comment", // UserComment
  0x9c9c: "comment", // XPComment
};
const EXIF_IFD = 0x8769;
const GPS_IFD = 0x8825;
export const ORIENTATION = 0x0112;

function reader(tiff) {
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const order = String.fromCharCode(tiff[0], tiff[1]);
  if (order !== "II" && order !== "MM") return null;
  const le = order === "II";
  return {
    u16: (o) => view.getUint16(o, le),
    u32: (o) => view.getUint32(o, le),
    length: tiff.byteLength,
  };
}

function text(tiff, r, entry) {
  const type = r.u16(entry + 2);
  const count = r.u32(entry + 4);
  const size = type === 2 || type === 1 || type === 7 ? count : 0;
  if (!size) return "";
  const at = size <= 4 ? entry + 8 : r.u32(entry + 8);
  if (at + size > r.length) return "";
  const raw = tiff.subarray(at, at + size);
  if (type === 1) return new TextDecoder("utf-16le").decode(raw).replace(/\0+$/, "");
  let s = new TextDecoder("utf-8").decode(raw).replace(/\0+$/, "");
  if (type === 7) s = s.replace(/^(ASCII|UNICODE|JIS)?\0*/, "");
  return s.trim();
}

function ratio(tiff, r, at) {
  const n = r.u32(at);
  const d = r.u32(at + 4);
  return d ? n / d : 0;
}

function gpsPosition(tiff, r, ifd) {
  const got = {};
  const count = r.u16(ifd);
  for (let i = 0; i < count; i++) {
    const e = ifd + 2 + 12 * i;
    const tag = r.u16(e);
    if (tag === 1 || tag === 3) got[tag] = String.fromCharCode(tiff[e + 8]);
    if ((tag === 2 || tag === 4) && r.u16(e + 2) === 5) {
      const at = r.u32(e + 8);
      if (at + 24 <= r.length) got[tag] = ratio(tiff, r, at) + ratio(tiff, r, at + 8) / 60 + ratio(tiff, r, at + 16) / 3600;
    }
  }
  if (got[2] === undefined || got[4] === undefined) return "";
  const lat = (got[1] === "S" ? -1 : 1) * got[2];
  const lon = (got[3] === "W" ? -1 : 1) * got[4];
  return `${lat.toFixed(5)}, ${lon.toFixed(5)}`;
}

/** Findings [{key, value}] in a TIFF block (the bytes after "Exif\0\0"). */
export function exifFindings(tiff) {
  const out = [];
  const r = tiff.byteLength >= 8 ? reader(tiff) : null;
  if (!r) return out;
  const seen = new Set();
  const walk = (ifd, depth) => {
    if (depth > 2 || seen.has(ifd) || ifd + 2 > r.length) return;
    seen.add(ifd);
    const count = r.u16(ifd);
    for (let i = 0; i < count && ifd + 2 + 12 * (i + 1) <= r.length; i++) {
      const e = ifd + 2 + 12 * i;
      const tag = r.u16(e);
      if (tag === EXIF_IFD) walk(r.u32(e + 8), depth + 1);
      else if (tag === GPS_IFD) out.push({ key: "gps", value: gpsPosition(tiff, r, r.u32(e + 8)) });
      else if (TAGS[tag]) {
        const value = text(tiff, r, e);
        if (value) out.push({ key: TAGS[tag], value });
      }
    }
  };
  try {
    walk(r.u32(4), 0);
  } catch (e) {
    // A damaged block: what was read so far is reported.
  }
  return out;
}

/** The orientation (2..8) in a TIFF block, or 0 (absent, upright or unreadable). */
export function exifOrientation(tiff) {
  try {
    const r = reader(tiff);
    if (!r) return 0;
    const ifd = r.u32(4);
    const count = r.u16(ifd);
    for (let i = 0; i < count; i++) {
      const e = ifd + 2 + 12 * i;
      if (r.u16(e) === ORIENTATION && r.u16(e + 2) === 3) {
        const v = r.u16(e + 8);
        return v >= 2 && v <= 8 ? v : 0;
      }
    }
  } catch (e) {
    return 0;
  }
  return 0;
}

/** An APP1 segment holding only the orientation (big-endian TIFF, one IFD entry). */
export function minimalExifSegment(orientation) {
  const body = [0x45, 0x78, 0x69, 0x66, 0, 0, 0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8, 0, 1];
  body.push(0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0);
  const length = body.length + 2;
  return Uint8Array.from([0xff, 0xe1, length >> 8, length & 0xff, ...body]);
}

/** Does the block hold anything but the orientation (what cleaning leaves)? */
export function exifHasMore(tiff) {
  try {
    const r = reader(tiff);
    if (!r) return true;
    const ifd = r.u32(4);
    const count = r.u16(ifd);
    for (let i = 0; i < count; i++) if (r.u16(ifd + 2 + 12 * i) !== ORIENTATION) return true;
    return r.u32(ifd + 2 + 12 * count) !== 0;
  } catch (e) {
    return true;
  }
}
