"""Reading the notices back as a person's software would: python-docx for the DOCX,
pypdf for the PDF. Shared by the notice tests."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime

import docx
import pypdf


def docx_text(data: bytes) -> str:
    """Every paragraph of the body and of its tables, one per line."""
    document = docx.Document(io.BytesIO(data))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                lines += [p.text for p in cell.paragraphs]
    return "\n".join(lines)


def docx_xml(data: bytes) -> str:
    """All the XML of the package: body, properties, settings - wherever text can hide."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return "\n".join(
            package.read(name).decode("utf-8")
            for name in package.namelist()
            if name.endswith((".xml", ".rels"))
        )


def pdf_text(data: bytes) -> str:
    """The PDF's text with runs of spaces made one (justified lines stretch them)."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"[ \u00a0]+", " ", text)


def flat(text: str) -> str:
    """Lines joined: a phrase the renderer wrapped still reads as one."""
    return re.sub(r"\s+", " ", text)


# D:YYYYMMDDHHmmSS followed by an optional zone.
_PDF_DATE = re.compile(r"D:(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?")


def pdf_times_of_day(data: bytes) -> list[str]:
    """Every date in the PDF's document information whose time is not 00:00:00."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    found = []
    for key, value in (reader.metadata or {}).items():
        match = _PDF_DATE.match(str(value))
        if match and any(part not in (None, "00") for part in match.groups()[3:]):
            found.append(f"{key}={value}")
    return found


def docx_times_of_day(data: bytes) -> list[str]:
    """Every time in the DOCX - core properties and zip entries - that is not 00:00:00."""
    document = docx.Document(io.BytesIO(data))
    core = document.core_properties
    found = [
        f"{name}={value.isoformat()}"
        for name in ("created", "modified", "last_printed")
        if isinstance(value := getattr(core, name), datetime)
        and (value.hour, value.minute, value.second) != (0, 0, 0)
    ]
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        found += [
            f"{info.filename}@{info.date_time}"
            for info in package.infolist()
            if info.date_time[3:] != (0, 0, 0)
        ]
    return found
