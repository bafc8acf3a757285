"""The investigation agencies are data (config/referral_agencies.toml, or the file
LIEMCHINH_REFERRAL_AGENCIES_FILE names): a broken file is refused with its entry named,
and the review app does not start with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.cases.referral_agencies import (
    SHIPPED_AGENCIES,
    AgencyListError,
    agency_name,
    load_agencies,
)
from app.database import Database
from app.factory import create_review_app
from config import ConfigError, Settings, load_settings


def test_the_shipped_list_names_the_city_police_in_both_languages() -> None:
    agencies = {a.code: a for a in load_agencies(SHIPPED_AGENCIES)}
    police = agencies["csdt_can_tho"]
    assert police.name("vi") == "Cơ quan Cảnh sát điều tra Công an TP Cần Thơ"
    assert police.name("en").startswith("Criminal Police Investigation Agency")
    assert agency_name("csdt_can_tho", "vi") == police.name_vi
    assert agency_name("đã_bỏ", "vi") == "đã_bỏ"  # a code no longer listed shows as itself


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('["Công_an"]\nname_vi = "Công an"\nname_en = "Police"\n', "is not a code"),
        ('[ca]\nname_vi = "Công an"\n', "needs name_vi and name_en"),
        ('[ca]\nname_vi = "Công an"\nname_en = "Police"\ncolour = "đỏ"\n', "only"),
        ('[ca]\nname_vi = "Công an"\nname_en = "Police"\nactive = false\n', "no active"),
        ("[ca\n", "cannot read"),
    ],
)
def test_a_broken_list_is_refused(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "cơ-quan.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AgencyListError, match=words):
        load_agencies(path)


def test_the_setting_names_an_existing_file(tmp_path: Path, env: dict[str, str]) -> None:
    missing = tmp_path / "không-có.toml"
    with pytest.raises(ConfigError, match="LIEMCHINH_REFERRAL_AGENCIES_FILE"):
        load_settings({**env, "LIEMCHINH_REFERRAL_AGENCIES_FILE": str(missing)})
    listed = tmp_path / "cơ-quan.toml"
    listed.write_text(
        '[ca_ninh_kieu]\nname_vi = "Công an Ninh Kiều"\nname_en = "Ninh Kiều police"\n'
    )
    chosen = load_settings({**env, "LIEMCHINH_REFERRAL_AGENCIES_FILE": str(listed)})
    assert chosen.referral_agencies_file == listed.resolve()
    assert load_settings(env).referral_agencies_file is None  # the shipped list


def test_the_review_app_does_not_start_with_a_broken_list(
    tmp_path: Path, settings: Settings, database: Database
) -> None:
    from dataclasses import replace

    broken = tmp_path / "hỏng.toml"
    broken.write_text('[ca]\nname_vi = "Công an"\n', encoding="utf-8")
    with pytest.raises(AgencyListError):
        create_review_app(replace(settings, referral_agencies_file=broken), database)
    assert create_review_app(settings, database) is not None  # the control
