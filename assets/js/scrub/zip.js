// Liêm Chính scrubber: the least of ZIP needed to clean an office document
// (DOCX, XLSX, PPTX are ZIP files). Written here rather than taken from a
// library because it is small (read the central directory, copy the entries
// that stay, deflate the few that change) and the project takes no new
// runtime dependency for the intake page; inflating and deflating use the
// browser's own CompressionStream. Not handled (the file is then reported as
// not cleanable): ZIP64, encrypted entries, split archives.
//
// Every entry's modification time is set to 1980-01-01: the times an office
// program writes say when the reporter worked on the document.

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export class ZipError extends Error {}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const DOS_DATE_1980 = 0x21; // 1980-01-01, time 00:00

export function isZip(b) {
  return b.length > 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 3 && b[3] === 4;
}

/** The entries of a ZIP file: [{name, method, flags, crc, csize, usize, data()}]. */
export function readZip(b) {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let eocd = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipError("no end of central directory");
  const count = view.getUint16(eocd + 10, true);
  let at = view.getUint32(eocd + 16, true);
  if (count === 0xffff || at === 0xffffffff) throw new ZipError("zip64");
  const entries = [];
  for (let i = 0; i < count; i++) {
    if (at + 46 > b.length || view.getUint32(at, true) !== CENTRAL) throw new ZipError("bad central directory");
    const flags = view.getUint16(at + 8, true);
    const method = view.getUint16(at + 10, true);
    const crc = view.getUint32(at + 16, true);
    const csize = view.getUint32(at + 20, true);
    const usize = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const nameBytes = b.subarray(at + 46, at + 46 + nameLength);
    if (flags & 1) throw new ZipError("encrypted entry");
    if (csize === 0xffffffff || usize === 0xffffffff || local === 0xffffffff) throw new ZipError("zip64");
    if (local + 30 > b.length || view.getUint32(local, true) !== LOCAL) throw new ZipError("bad local header");
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (start + csize > b.length) throw new ZipError("truncated entry");
    entries.push({
      name: new TextDecoder().decode(nameBytes),
      nameBytes,
      flags,
      method,
      crc,
      csize,
      usize,
      raw: b.subarray(start, start + csize),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

async function through(bytes, stream) {
  const out = new Blob([bytes]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(out).arrayBuffer());
}

/** The uncompressed bytes of an entry (stored or deflated). */
export async function entryBytes(entry) {
  if (entry.method === 0) return entry.raw;
  if (entry.method !== 8) throw new ZipError("unknown compression");
  return await through(entry.raw, new DecompressionStream("deflate-raw"));
}

/** A new entry with `bytes` as its content, deflated. */
export async function replaced(entry, bytes) {
  const raw = await through(bytes, new CompressionStream("deflate-raw"));
  return { ...entry, method: 8, crc: crc32(bytes), csize: raw.length, usize: bytes.length, raw };
}

/** The ZIP file of `entries`, without data descriptors, comments or extra fields. */
export function writeZip(entries) {
  const parts = [];
  const central = [];
  let offset = 0;
  for (const e of entries) {
    const flags = e.flags & 0x0800; // keep only "names are UTF-8"
    const head = new DataView(new ArrayBuffer(30));
    head.setUint32(0, LOCAL, true);
    head.setUint16(4, 20, true);
    head.setUint16(6, flags, true);
    head.setUint16(8, e.method, true);
    head.setUint16(10, 0, true);
    head.setUint16(12, DOS_DATE_1980, true);
    head.setUint32(14, e.crc, true);
    head.setUint32(18, e.csize, true);
    head.setUint32(22, e.usize, true);
    head.setUint16(26, e.nameBytes.length, true);
    head.setUint16(28, 0, true);
    parts.push(new Uint8Array(head.buffer), e.nameBytes, e.raw);
    const cd = new DataView(new ArrayBuffer(46));
    cd.setUint32(0, CENTRAL, true);
    cd.setUint16(4, 20, true);
    cd.setUint16(6, 20, true);
    cd.setUint16(8, flags, true);
    cd.setUint16(10, e.method, true);
    cd.setUint16(12, 0, true);
    cd.setUint16(14, DOS_DATE_1980, true);
    cd.setUint32(16, e.crc, true);
    cd.setUint32(20, e.csize, true);
    cd.setUint32(24, e.usize, true);
    cd.setUint16(28, e.nameBytes.length, true);
    cd.setUint32(42, offset, true);
    central.push(new Uint8Array(cd.buffer), e.nameBytes);
    offset += 30 + e.nameBytes.length + e.raw.length;
  }
  const cdSize = central.reduce((n, p) => n + p.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, EOCD, true);
  end.setUint16(8, entries.length, true);
  end.setUint16(10, entries.length, true);
  end.setUint32(12, cdSize, true);
  end.setUint32(16, offset, true);
  return new Blob([...parts, ...central, new Uint8Array(end.buffer)]);
}
