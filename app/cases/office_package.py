"""Office files (DOCX) the system writes carry a day, never a time: the notices (dated
the day they are issued) and the quarterly report (dated its quarter's last day).

python-docx stamps every zip entry with the moment it saves, which would date the
making of the file to the second; the package is rewritten with one day on every entry.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date


def dated_package(data: bytes, day: date) -> bytes:
    """The same zip package with every entry dated ``day`` at 00:00."""
    stamp = (day.year, day.month, day.day, 0, 0, 0)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, source.read(entry.filename))
    return out.getvalue()
