"""Real files that carry hidden information (author, GPS, camera), made with the
libraries people's tools use, for the metadata-removal tests (issue 15)."""

from __future__ import annotations

import io
import struct

from docx import Document
from PIL import Image, PngImagePlugin
from pypdf import PdfWriter

AUTHOR = "Nguyễn Văn Đức"
# EXIF ASCII fields hold 7-bit text only; the Unicode name goes into XPAuthor.
ARTIST = "Nguyen Van Duc"
CAMERA = "Camera Can Tho X9"
XMP_MARK = b"xmp-lich-su-chinh-sua"
IPTC_MARK = b"IPTC-Phong-vien-Uong"
COMMENT = "ghi chú của Đức"

# EXIF tags (TIFF 6.0 / EXIF 2.3): IFD0 Make, Model, Artist, Software, Orientation, the
# GPS IFD, and Windows' XPAuthor (UTF-16).
_MAKE, _MODEL, _ARTIST, _SOFTWARE, _ORIENTATION, _GPS_IFD, _XP_AUTHOR = (
    0x010F,
    0x0110,
    0x013B,
    0x0131,
    0x0112,
    0x8825,
    0x9C9D,
)


def _iptc_segment() -> bytes:
    # APP13 "Photoshop 3.0" resource 0x0404 holding an IPTC By-line (2:80) dataset.
    dataset = b"\x1c\x02\x50" + struct.pack(">H", len(IPTC_MARK)) + IPTC_MARK
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(dataset)) + dataset
    body = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + struct.pack(">H", len(body) + 2) + body


def jpeg_with_metadata(*, orientation: int = 6) -> bytes:
    """A JPEG with EXIF (camera, artist, GPS position, orientation), XMP, IPTC and a
    comment, and an ICC profile that must stay."""
    image = Image.new("RGB", (32, 16), (200, 30, 30))
    exif = Image.Exif()
    exif[_MAKE] = "Hang may anh"
    exif[_MODEL] = CAMERA
    exif[_ARTIST] = ARTIST
    exif[_XP_AUTHOR] = AUTHOR.encode("utf-16-le") + b"\x00\x00"
    exif[_SOFTWARE] = "Trinh sua anh 1.0"
    exif[_ORIENTATION] = orientation
    gps = exif.get_ifd(_GPS_IFD)
    gps[1] = "N"
    gps[2] = (10.0, 2.0, 3.0)  # Cần Thơ, about 10.03 N 105.78 E
    gps[3] = "E"
    gps[4] = (105.0, 47.0, 0.0)
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>' + XMP_MARK + b"</rdf:RDF></x:xmpmeta>"
    icc = b"\x00" * 128 + b"fake-icc-profile"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, xmp=xmp, comment=COMMENT.encode(), icc_profile=icc)
    data = out.getvalue()
    return data[:2] + _iptc_segment() + data[2:]


def png_with_text() -> bytes:
    """A PNG with text chunks (tEXt, iTXt, zTXt) and an eXIf chunk naming the camera."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", AUTHOR)
    info.add_itxt("Comment", COMMENT)
    info.add_text("Software", "Trình sửa ảnh", zip=True)
    exif = Image.Exif()
    exif[_MODEL] = CAMERA
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(out, "PNG", pnginfo=info, exif=exif)
    return out.getvalue()


COMMENT_AUTHOR = "Lê Văn Đạt"


def docx_with_author(author: str = AUTHOR) -> bytes:
    """A DOCX by ``author``, with a comment by :data:`COMMENT_AUTHOR`."""
    document = Document()
    paragraph = document.add_paragraph("Biên bản họp ngày 15/9")
    document.add_comment(
        paragraph.runs, text="xem lại số liệu", author=COMMENT_AUTHOR, initials="LVĐ"
    )
    document.core_properties.author = author
    document.core_properties.last_modified_by = author
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pdf_with_author(author: str = AUTHOR) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Author": author, "/Creator": "Phần mềm văn phòng"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
