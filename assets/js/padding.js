// Liêm Chính intake: PADMÉ padding of attachments before they are encrypted.
//
// The length of an age file gives away the length of what it holds; for an
// attachment, that lets anyone holding the original document confirm it was
// submitted. So every attachment is padded with zero bytes to its PADMÉ length
// (Nikitin, Barman, Lueks, Underwood, Hubaux, Ford: "Reducing Metadata Leakage
// from Encrypted Files and Communication with PURBs", PoPETs 2019 (4), sec. 4)
// and only then encrypted. The true size stays in the encrypted report or
// message ("size" of the attachment), and downloads cut the file back to it.
//
// This must give exactly the numbers of crypto/padding.py (the no-JavaScript
// path pads on the server): tests/crypto/test_padding.py runs both. Written
// with plain arithmetic, not bit operators, which in JavaScript work on 32 bits
// only; exact for every length below 2^53.

/** floor(log2 n) for a positive safe integer, exactly (Math.log2 rounds). */
function floorLog2(n) {
  return n.toString(2).length - 1;
}

/** The PADMÉ length of `length` bytes: `length` rounded up to a multiple of 2^(E-S). */
export function padmeLength(length) {
  if (!Number.isSafeInteger(length) || length < 0) {
    throw new RangeError("length must be a non-negative safe integer");
  }
  if (length < 2) return length;
  const e = floorLog2(length); // E = floor(log2 L)
  const s = floorLog2(e) + 1; // S = floor(log2 E) + 1
  const step = 2 ** (e - s);
  return Math.ceil(length / step) * step;
}

/**
 * `blob` followed by zero bytes up to its PADMÉ length, as a Blob (the file's
 * bytes are not read here: the result is read as a stream when it is encrypted).
 */
export function padFile(blob) {
  const extra = padmeLength(blob.size) - blob.size;
  if (extra === 0) return blob;
  return new Blob([blob, new Uint8Array(extra)], { type: "application/octet-stream" });
}
