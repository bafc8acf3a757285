"""The desk's scans stay within the intake's limits, in memory: a file too large, or one
too many, is refused with a clear page in the officer's language and nothing is kept."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.database import Database
from app.models import Case
from config import Settings
from tests.factories import LETTER_NAME, desk_form
from tests.review.conftest import StaffFactory

LIMIT = 4096


@pytest.fixture
def env(env: dict[str, str]) -> dict[str, str]:
    return {
        **env,
        "LIEMCHINH_MAX_FILE_BYTES": str(LIMIT),
        "LIEMCHINH_MAX_REPORT_BYTES": str(3 * LIMIT),
        "LIEMCHINH_MAX_FILES": "2",
    }


def cases(database: Database) -> int:
    with database.read_session() as db:
        return db.scalar(select(func.count()).select_from(Case)) or 0


@pytest.mark.parametrize(
    "files",
    [[LIMIT + 1], [LIMIT, 10, 10]],
    ids=["too-large", "too-many"],
)
def test_scans_beyond_the_limits_are_refused_and_nothing_is_kept(
    staff: StaffFactory, database: Database, settings: Settings, files: list[int]
) -> None:
    officer = staff("dang-thi-uyen", "intake")
    data = desk_form()
    data["attachments"] = [(io.BytesIO(b"\xff" * size), LETTER_NAME) for size in files]
    response = officer.client.submit("/desk/report", data, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "too many or too large" in response.get_data(as_text=True)
    assert cases(database) == 0
    assert [p for p in Path(settings.blob_path).rglob("*") if p.is_file()] == []
    # Positive control: within the limits, the same officer's report is stored.
    data["attachments"] = [(io.BytesIO(b"\xff" * LIMIT), LETTER_NAME)]
    ok = officer.client.submit("/desk/report", data, content_type="multipart/form-data")
    assert ok.status_code == 200, ok.get_data(as_text=True)[:1500]
    assert cases(database) == 1
