"""The installation's calendar: the local day, and day labels that carry no time."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app import clock
from config import ConfigError, load_settings


def test_the_day_is_the_local_one_not_utcs() -> None:
    # 18:30 UTC on 4 March is 01:30 on 5 March in Cần Thơ (UTC+7).
    evening = datetime(2026, 3, 4, 18, 30, tzinfo=UTC)
    assert clock.reporter_day(evening) == date(2026, 3, 5)
    assert clock.reporter_day(datetime(2026, 3, 4, 16, 59, tzinfo=UTC)) == date(2026, 3, 4)
    assert clock.start_of_day(date(2026, 3, 5)) == datetime(2026, 3, 4, 17, 0, tzinfo=UTC)


def test_a_day_stamp_is_a_label_without_a_time() -> None:
    stamp = clock.day_stamp(date(2026, 3, 5))
    assert stamp == datetime(2026, 3, 5, tzinfo=UTC)
    assert clock.is_day_stamp(stamp) and clock.stamp_day(stamp) == date(2026, 3, 5)
    assert not clock.is_day_stamp(datetime(2026, 3, 5, 0, 0, 1, tzinfo=UTC))


def test_another_zone_moves_the_day(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "_zone", clock.parse_zone("America/Sao_Paulo"))
    assert clock.reporter_day(datetime(2026, 3, 5, 2, 0, tzinfo=UTC)) == date(2026, 3, 4)
    with pytest.raises(ValueError):
        clock.local_day(datetime(2026, 3, 5))  # naive: which zone?


def test_the_zone_is_a_validated_setting(tmp_path: object) -> None:
    env = {"LIEMCHINH_INSTANCE_PATH": str(tmp_path)}
    assert load_settings(env).timezone == "Asia/Ho_Chi_Minh"
    assert load_settings({**env, "LIEMCHINH_TIMEZONE": "Asia/Bangkok"}).timezone == "Asia/Bangkok"
    with pytest.raises(ConfigError, match="LIEMCHINH_TIMEZONE"):
        load_settings({**env, "LIEMCHINH_TIMEZONE": "Asia/Cần_Thơ"})
    with pytest.raises(clock.UnknownZoneError):
        clock.parse_zone("Mars/Olympus")
