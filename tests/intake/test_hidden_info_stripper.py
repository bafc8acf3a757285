"""The streaming stripper of the no-JavaScript path (app/intake/hidden_info.py), fed
real files made by Pillow, in chunks of every awkward size."""

from __future__ import annotations

import io
import re

import pytest
from docx import Document
from PIL import Image
from sqlalchemy import select

from app.database import Database
from app.intake.hidden_info import (
    Cleaning,
    FileFormat,
    MetadataStripper,
    Removed,
    exif_orientation,
    minimal_exif,
)
from app.models import Blob
from tests.conftest import CsrfClient
from tests.factories import ReviewerKeys, receipt_from, send_report
from tests.factories.hidden_info import (
    ARTIST,
    AUTHOR,
    CAMERA,
    IPTC_MARK,
    XMP_MARK,
    docx_with_author,
    jpeg_with_metadata,
    pdf_with_author,
    png_with_text,
)

GPS_TAG = 0x8825


def strip(data: bytes, chunk: int) -> tuple[bytes, Cleaning]:
    stripper = MetadataStripper()
    out = bytearray()
    for i in range(0, len(data), chunk):
        out += stripper.feed(data[i : i + chunk])
    out += stripper.finish()
    return bytes(out), stripper.cleaning


def test_the_photo_carries_what_the_reporter_would_not_want_to_send() -> None:
    """Positive control: everything the stripper must remove is there, readable."""
    data = jpeg_with_metadata()
    image = Image.open(io.BytesIO(data))
    exif = image.getexif()
    assert exif[0x013B] == ARTIST and exif[0x0110] == CAMERA
    assert AUTHOR.encode("utf-16-le") in data
    assert exif.get_ifd(GPS_TAG)[1] == "N"
    assert XMP_MARK in data and IPTC_MARK in data and b"fake-icc-profile" in data


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 100, 4096, 1 << 20])
def test_jpeg_loses_exif_xmp_iptc_and_comments_keeps_colours_and_orientation(chunk: int) -> None:
    data = jpeg_with_metadata(orientation=6)
    out, cleaning = strip(data, chunk)
    assert cleaning.file_format is FileFormat.JPEG and cleaning.cleaned
    assert set(cleaning.removed) == {Removed.EXIF, Removed.XMP, Removed.IPTC, Removed.COMMENT}
    secrets = (AUTHOR.encode("utf-16-le"), ARTIST.encode(), CAMERA.encode(), XMP_MARK, IPTC_MARK)
    for secret in (*secrets, "ghi chú".encode()):
        assert secret not in out
    image = Image.open(io.BytesIO(out))
    image.load()  # still a picture
    assert image.size == (32, 16)
    exif = image.getexif()
    assert dict(exif) == {0x0112: 6}  # only the orientation is left
    assert not exif.get_ifd(GPS_TAG)
    assert image.info.get("icc_profile", b"").endswith(b"fake-icc-profile")
    assert Image.open(io.BytesIO(data)).tobytes() == image.tobytes()


def test_upright_photo_keeps_no_exif_at_all() -> None:
    out, _cleaning = strip(jpeg_with_metadata(orientation=1), 500)
    assert b"Exif\x00\x00" not in out


@pytest.mark.parametrize("chunk", [1, 5, 64, 1 << 20])
def test_png_loses_text_chunks_keeps_the_picture(chunk: int) -> None:
    data = png_with_text()
    assert AUTHOR.encode() in data  # positive control
    assert Image.open(io.BytesIO(data)).text["Author"] == AUTHOR
    out, cleaning = strip(data, chunk)
    assert CAMERA.encode() in data  # positive control
    assert cleaning.file_format is FileFormat.PNG
    assert set(cleaning.removed) == {Removed.TEXT, Removed.EXIF}
    assert AUTHOR.encode() not in out and CAMERA.encode() not in out
    assert b"tEXt" not in out and b"iTXt" not in out and b"eXIf" not in out
    image = Image.open(io.BytesIO(out))
    assert image.text == {}
    assert image.tobytes() == Image.open(io.BytesIO(data)).tobytes()


@pytest.mark.parametrize(
    "data",
    [b"", b"\xff", b"\x89PNG fake", b"%PDF-1.7 " * 50, docx_with_author()],
)
def test_other_files_pass_through_unchanged(data: bytes) -> None:
    out, cleaning = strip(data, 3)
    assert out == data
    assert cleaning == Cleaning(FileFormat.OTHER, ())
    assert not cleaning.cleaned


def test_a_cut_short_jpeg_keeps_what_arrived_and_raises_nothing() -> None:
    data = jpeg_with_metadata()
    out, cleaning = strip(data[:40], 7)
    assert out.startswith(b"\xff\xd8") and cleaning.file_format is FileFormat.JPEG


def test_minimal_exif_is_read_back() -> None:
    segment = minimal_exif(8)
    assert exif_orientation(segment[4:]) == 8
    assert exif_orientation(b"Exif\x00\x00garbage") is None


def test_no_javascript_report_stores_the_photo_without_its_hidden_information(
    intake_client: CsrfClient, database: Database, intake_reviewer: ReviewerKeys
) -> None:
    photo, document = jpeg_with_metadata(), docx_with_author()
    response = send_report(
        intake_client, files=[(photo, "ảnh hiện trường.jpg"), (document, "biên bản họp.docx")]
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # The receipt says what was removed, and what could not be (Vietnamese by default).
    assert "Thông tin ẩn trong các tệp của bạn" in page
    photo_line = re.search(r"ảnh hiện trường\.jpg</strong>: Đã xoá: [^<]*", page)
    assert photo_line and "máy ảnh, ngày chụp và vị trí GPS (EXIF)" in photo_line.group(0)
    assert "biên bản họp.docx</strong>: Thông tin ẩn của tệp này" in page
    stored = stored_attachments(intake_client, database, receipt_from(response))
    assert ARTIST.encode() not in stored[0] and XMP_MARK not in stored[0]
    assert Image.open(io.BytesIO(stored[0])).size == (32, 16)
    assert dict(Image.open(io.BytesIO(stored[0])).getexif()) == {0x0112: 6}
    # Positive control: the same reader sees the author in what is stored as sent.
    assert stored[1] == document
    assert Document(io.BytesIO(stored[1])).core_properties.author == AUTHOR


def stored_attachments(client: CsrfClient, database: Database, receipt: str) -> list[bytes]:
    """The attachments as the reporter downloads them (decrypted, cut to their size)."""
    with database.read_session() as db:
        ids = db.scalars(select(Blob.id).where(Blob.kind == "attachment").order_by(Blob.position))
        blob_ids = list(ids)
    assert client.submit("/followup", {"receipt": receipt}, action="/followup").status_code == 303
    return [client.get(f"/followup/attachments/{blob_id}").data for blob_id in blob_ids]


def test_the_english_receipt_says_what_was_removed_and_what_was_not(
    intake_client: CsrfClient, intake_reviewer: ReviewerKeys
) -> None:
    intake_client.get("/?lang=en")
    response = send_report(
        intake_client,
        files=[(png_with_text(), "sơ đồ khu đất.png"), (pdf_with_author(), "biên bản họp.pdf")],
    )
    page = response.get_data(as_text=True)
    assert "Hidden information in your files" in page
    assert "sơ đồ khu đất.png</strong>: Removed: " in page
    assert "text notes such as author and software" in page
    assert "biên bản họp.pdf</strong>: Its hidden information" in page
    assert "stored as you sent it" in page
