"""LIEMCHINH_HOLIDAYS_FILE and LIEMCHINH_LEGAL_PERIODS_FILE: an installation points at its
own calendar overrides and statutory periods; every clock then counts with them; a bad
file stops the app at start-up with a message naming the variable and the file."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from app.cases import legal_process
from app.cases.legal_periods import protection_due
from app.cases.workdays import SHIPPED_OVERRIDES
from app.database import Database
from app.factory import create_intake_app, create_review_app
from config import ConfigError, Settings, load_settings
from config.settings import SHIPPED_HOLIDAYS_FILE, SHIPPED_LEGAL_PERIODS_FILE

# Monday 01/03/2027, an ordinary working day in the package's calendar.
EXTRA_DAY_OFF = """
[[day_off]]
date = 2027-03-01
reason = "Ngày nghỉ bù do Thủ tướng công bố (thử nghiệm)"
"""


@pytest.fixture(autouse=True)
def shipped_files_afterwards() -> Iterator[None]:
    yield
    # The files are per process (like the time zone): leave the shipped ones for the next test.
    legal_process.use_legal_files(SHIPPED_HOLIDAYS_FILE, SHIPPED_LEGAL_PERIODS_FILE)


def test_by_default_the_shipped_files(env: dict[str, str]) -> None:
    settings = load_settings(env)
    assert settings.holidays_file == SHIPPED_HOLIDAYS_FILE == SHIPPED_OVERRIDES
    assert settings.legal_periods_file == SHIPPED_LEGAL_PERIODS_FILE


def test_none_means_no_file(env: dict[str, str]) -> None:
    settings = load_settings(
        {**env, "LIEMCHINH_HOLIDAYS_FILE": "none", "LIEMCHINH_LEGAL_PERIODS_FILE": "None"}
    )
    assert settings.holidays_file is None and settings.legal_periods_file is None


@pytest.mark.parametrize("name", ["LIEMCHINH_HOLIDAYS_FILE", "LIEMCHINH_LEGAL_PERIODS_FILE"])
def test_an_empty_or_missing_file_is_refused_with_the_variables_name(
    env: dict[str, str], tmp_path: Path, name: str
) -> None:
    with pytest.raises(ConfigError, match=f"{name} is set but empty"):
        load_settings({**env, name: " "})
    absent = tmp_path / "ngày nghỉ.toml"
    with pytest.raises(ConfigError, match=f"{name}: .*ngày nghỉ.toml is not a readable file"):
        load_settings({**env, name: str(absent)})


def test_the_installations_calendar_moves_the_clocks(
    env: dict[str, str], settings: Settings, database: Database, tmp_path: Path
) -> None:
    # Positive control: with the shipped calendar, 3 working days from Thu 25/02/2027
    # end on Tue 02/03.
    create_review_app(settings, database)
    assert protection_due(date(2027, 2, 25), legal_process.work_calendar()) == date(2027, 3, 2)

    own = tmp_path / "lịch nghỉ.toml"
    own.write_text(EXTRA_DAY_OFF, encoding="utf-8")
    periods = tmp_path / "thời hạn.toml"
    periods.write_text("[protection]\ndecision_working_days = 1\n", encoding="utf-8")
    configured = load_settings(
        {
            **env,
            "LIEMCHINH_HOLIDAYS_FILE": str(own),
            "LIEMCHINH_LEGAL_PERIODS_FILE": str(periods),
        }
    )
    create_intake_app(configured, database)
    calendar = legal_process.work_calendar()
    assert not calendar.is_working_day(date(2027, 3, 1))
    assert legal_process.protection_periods().decision_working_days == 1
    # The periods left out keep their statutory value.
    assert legal_process.denunciation_periods().acceptance_working_days == 7
    assert protection_due(date(2027, 2, 26), calendar, legal_process.protection_periods()) == date(
        2027, 3, 2
    )


@pytest.mark.parametrize(
    ("field", "content", "message"),
    [
        (
            "holidays_file",
            '[[day_off]]\ndate = "mồng 1 Tết"\nreason = "x"\n',
            r"LIEMCHINH_HOLIDAYS_FILE: .*lịch hỏng.toml",
        ),
        (
            "legal_periods_file",
            "[denunciation]\nresolution_days = 300000\n",
            r"LIEMCHINH_LEGAL_PERIODS_FILE: .*lịch hỏng.toml: denunciation.resolution_days",
        ),
        ("legal_periods_file", "[denunciation\n", r"LIEMCHINH_LEGAL_PERIODS_FILE: cannot read"),
    ],
)
def test_a_bad_file_stops_the_app_at_start_up(
    settings: Settings, database: Database, tmp_path: Path, field: str, content: str, message: str
) -> None:
    bad = tmp_path / "lịch hỏng.toml"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        create_review_app(dataclasses.replace(settings, **{field: bad}), database)
