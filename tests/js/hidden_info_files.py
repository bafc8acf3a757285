"""Files with hidden information for tests/js/scrub.test.mjs, made and read back with
the Python libraries people's tools use (Pillow, python-docx, pypdf).

``make``: prints {format: base64} of the files of tests/factories/hidden_info.py.
``read FORMAT``: reads a file on stdin, prints what its metadata says, as JSON.
"""

from __future__ import annotations

import base64
import io
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from docx import Document
from PIL import Image
from pypdf import PdfReader

from tests.factories import hidden_info


def make() -> dict[str, str]:
    files = {
        "jpeg": hidden_info.jpeg_with_metadata(),
        "png": hidden_info.png_with_text(),
        "docx": hidden_info.docx_with_author(),
        "pdf": hidden_info.pdf_with_author(),
    }
    return {k: base64.b64encode(v).decode() for k, v in files.items()}


def read(kind: str, data: bytes) -> dict[str, object]:
    if kind in ("jpeg", "png"):
        image = Image.open(io.BytesIO(data))
        image.load()
        exif = image.getexif()
        return {
            "size": list(image.size),
            "exif": {str(k): str(v) for k, v in exif.items()},
            "gps": bool(exif.get_ifd(0x8825)),
            "text": dict(getattr(image, "text", {})),
            "icc": bool(image.info.get("icc_profile")),
        }
    if kind == "docx":
        document = Document(io.BytesIO(data))
        props = document.core_properties
        return {
            "author": props.author,
            "last_modified_by": props.last_modified_by,
            "text": document.paragraphs[0].text,
            "comments": [[c.author, c.initials, c.text] for c in document.comments],
        }
    reader = PdfReader(io.BytesIO(data))
    info = reader.metadata or {}
    return {
        "author": str(info.get("/Author", "")).strip(),
        "creator": str(info.get("/Creator", "")).strip(),
        "pages": len(reader.pages),
    }


if __name__ == "__main__":
    if sys.argv[1] == "make":
        print(json.dumps(make()))
    else:
        print(json.dumps(read(sys.argv[2], sys.stdin.buffer.read())))
