// Liêm Chính scrubber: which format a file is, what hidden information it
// carries, and the file without it. Formats are recognised by their first
// bytes, never by name or type (both are the reporter's to change).
//
// inspect(bytes) -> {format, cleanable, partial, findings: [{key, value}]}
//   format: "jpeg" | "png" | "pdf" | "office" | "heic" | "other"
//   cleanable: this scrubber can remove what it found
//   partial: some of the file could not be checked (PDF compressed objects)
// clean(bytes) -> Blob, the same file without its hidden information.

import { cleanJpeg, inspectJpeg, isJpeg } from "./jpeg.js";
import { cleanOffice, inspectOffice } from "./ooxml.js";
import { cleanPdf, inspectPdf, isPdf } from "./pdf.js";
import { cleanPng, inspectPng, isPng } from "./png.js";
import { isZip } from "./zip.js";

const HEIF_BRANDS = new Set(["heic", "heix", "hevc", "heim", "heis", "mif1", "msf1", "avif"]);

function isHeif(b) {
  if (b.length < 12) return false;
  const box = String.fromCharCode(...b.subarray(4, 8));
  return box === "ftyp" && HEIF_BRANDS.has(String.fromCharCode(...b.subarray(8, 12)));
}

export function formatOf(b) {
  if (isJpeg(b)) return "jpeg";
  if (isPng(b)) return "png";
  if (isPdf(b)) return "pdf";
  if (isZip(b)) return "office";
  if (isHeif(b)) return "heic";
  return "other";
}

export async function inspect(b) {
  const format = formatOf(b);
  const result = (findings, cleanable = true, partial = false) => ({ format, cleanable, partial, findings });
  switch (format) {
    case "jpeg":
      return result(inspectJpeg(b));
    case "png":
      return result(inspectPng(b));
    case "pdf": {
      const { findings, partial } = inspectPdf(b);
      return result(findings, true, partial);
    }
    case "office":
      try {
        return result(await inspectOffice(b));
      } catch (e) {
        // A ZIP that is not an office document, or one this reader cannot rewrite.
        return { format: "other", cleanable: false, partial: false, findings: [] };
      }
    case "heic":
      // HEIF keeps EXIF and XMP as items of its box tree, located by offsets
      // that removing them would shift; not attempted: the reporter is told
      // that this kind of file is sent as it is.
      return result([], false, true);
    default:
      return result([], false);
  }
}

export async function clean(b) {
  switch (formatOf(b)) {
    case "jpeg":
      return new Blob([cleanJpeg(b)]);
    case "png":
      return new Blob([cleanPng(b)]);
    case "pdf":
      return new Blob([cleanPdf(b)]);
    case "office":
      return await cleanOffice(b);
    default:
      throw new Error("cannot clean this file");
  }
}
