"""The office's DOCX opens in an office suite, not only in python-docx: LibreOffice
reads every kind and its text is all there (exported as plain text: what LibreOffice
understood of the file, with no PDF text extraction in between). Skipped where LibreOffice is not
installed (Debian: libreoffice-writer-nogui)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from app.cases.notices import NoticeKind, load_templates, render_docx
from tests.cases.notices.readback import flat
from tests.factories import NOTICE_NAME, make_notice

SOFFICE = shutil.which("soffice")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed"),
]


def test_libreoffice_reads_every_kind(tmp_path: Path) -> None:
    assert SOFFICE is not None
    for kind in NoticeKind:
        changes = {} if kind is NoticeKind.INFORMATION else {"recipient_name": NOTICE_NAME}
        (tmp_path / f"{kind}.docx").write_bytes(render_docx(make_notice(kind, **changes)))
    profile = tmp_path / "profile"  # its own profile: no state shared with a desktop
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless",
         "--convert-to", "txt:Text (encoded):UTF8", "--outdir", str(tmp_path / "out"),
         *sorted(str(p) for p in tmp_path.glob("*.docx"))],
        check=True, capture_output=True, timeout=240,
    )  # fmt: skip
    for kind in NoticeKind:
        text = flat((tmp_path / "out" / f"{kind}.txt").read_text(encoding="utf-8-sig"))
        assert "THANH TRA THÀNH PHỐ CẦN THƠ" in text
        assert "Cần Thơ, ngày 22 tháng 3 năm 2027" in text
        assert load_templates()[kind].subject in text
        assert "CT-2027-00042" in text  # the office copy's filing line
        assert (NOTICE_NAME in text) is (kind is not NoticeKind.INFORMATION)
