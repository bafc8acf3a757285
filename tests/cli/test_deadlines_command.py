"""``flask --app wsgi:review_app deadlines``: the statutory dates, checked by hand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def run(cli: Any, *args: str) -> Any:
    return cli.invoke(args=["deadlines", *args])


def test_acceptance_only(cli: Any) -> None:
    # Received 03/02/2027, the day before Tết Đinh Mùi (tests/cases/test_legal_periods.py
    # works the dates out).
    result = run(cli, "--received", "2027-02-03")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "acceptance 2027-02-19",
        "acceptance-checked-elsewhere 2027-02-24",
        "transfer 2027-02-17",
    ]


def test_acceptance_then_resolution_and_the_other_periods(cli: Any) -> None:
    result = run(
        cli,
        "--received",
        "2026-12-30",
        "--accepted",
        "2027-01-05",
        "--extensions",
        "1",
        "--concluded",
        "2027-04-28",
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # The first two lines are the ones the issue fixes; 30/12/2026 + 7 working days
    # skips 01/01/2027; resolution: 60 days after 05/01/2027 is Saturday 06/03 -> 08/03.
    assert lines[:2] == ["acceptance 2027-01-11", "resolution 2027-03-08"]
    assert lines[2:] == [
        "acceptance-checked-elsewhere 2027-01-14",
        "transfer 2027-01-07",
        "acceptance-notice 2027-01-12",
        "conclusion-notice 2027-05-07",
    ]


def test_extensions_and_suspensions_move_the_resolution(cli: Any) -> None:
    def resolution(*extra: str) -> str:
        result = run(cli, "--received", "2027-01-04", "--accepted", "2027-01-05", *extra)
        assert result.exit_code == 0, result.output
        return str(result.output.splitlines()[1])

    assert resolution() == "resolution 2027-02-11"  # 04/02 is in Tết
    assert resolution("--extensions", "0") == "resolution 2027-02-11"
    assert resolution("--extensions", "2") == "resolution 2027-04-05"
    assert (
        resolution("--suspended", "2027-01-20..2027-02-01", "--suspended", "2027-02-02..2027-02-07")
        == "resolution 2027-02-22"
    )


def test_the_holidays_file_is_used(cli: Any, tmp_path: Path) -> None:
    # Received 31/12/2025: transfer due 08/01/2026 on the package's calendar, 09/01 with
    # the shipped overrides (02/01 off, Saturday 10/01 worked) - the default file.
    assert "transfer 2026-01-09" in run(cli, "--received", "2025-12-31").output
    empty = tmp_path / "none.toml"
    empty.write_text("", encoding="utf-8")
    result = run(cli, "--received", "2025-12-31", "--holidays-file", str(empty))
    assert "transfer 2026-01-08" in result.output


def test_the_periods_file_is_used(cli: Any, tmp_path: Path) -> None:
    periods = tmp_path / "periods.toml"
    periods.write_text("[denunciation]\nacceptance_working_days = 8\n", encoding="utf-8")
    result = run(cli, "--received", "2027-02-03", "--periods-file", str(periods))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "acceptance 2027-02-22"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--received", "2027-02-30"], 2, "not a valid date '2027-02-30'"),
        (["--received", "20270203"], 2, "ngày không hợp lệ '20270203'"),
        (["--received", "03/02/2027"], 2, "expected YYYY-MM-DD"),
        ([], 2, "Missing option '--received'"),
        (["--received", "2027-02-03", "--extensions", "x"], 2, "'x' is not a valid integer"),
        (
            ["--received", "2027-02-03", "--accepted", "2027-02-10", "--extensions", "3"],
            1,
            "số lần gia hạn phải từ 0 đến 2, nhận được 3 / the number of extensions must be "
            "from 0 to 2, got 3",
        ),
        (
            ["--received", "2027-02-03", "--accepted", "2027-02-10", "--extensions", "-1"],
            1,
            "got -1",
        ),
        (["--received", "2027-02-03", "--extensions", "1"], 1, "only after the acceptance"),
        (["--received", "2027-02-03", "--concluded", "2027-03-01"], 1, "without an earlier"),
        (
            ["--received", "2027-02-03", "--accepted", "2027-02-01"],
            1,
            "ngày thụ lý 01/02/2027 trước ngày nhận 03/02/2027",
        ),
        (
            ["--received", "2027-02-03", "--accepted", "2027-02-10", "--concluded", "2027-02-09"],
            1,
            "concluded on 2027-02-09, without an earlier acceptance",
        ),
        (
            ["--received", "2027-02-03", "--accepted", "2027-02-10", "--suspended", "2027-03-01"],
            2,
            "not a valid suspension '2027-03-01'",
        ),
        (
            [
                "--received",
                "2027-02-03",
                "--accepted",
                "2027-02-10",
                "--suspended",
                "2027-03-05..2027-03-01",
            ],
            2,
            "resumed on 2027-03-01, before the suspension on 2027-03-05",
        ),
        (
            [
                "--received",
                "2027-02-03",
                "--accepted",
                "2027-02-10",
                "--suspended",
                "2027-02-01..2027-02-05",
            ],
            1,
            "before the acceptance",
        ),
    ],
)
def test_bad_input_is_refused_with_nothing_printed(
    cli: Any, args: list[str], code: int, message: str
) -> None:
    result = run(cli, *args)
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert result.stdout == ""


def test_a_bad_periods_file_is_refused(cli: Any, tmp_path: Path) -> None:
    periods = tmp_path / "periods.toml"
    periods.write_text("[denunciation]\nresolution_days = 300000\n", encoding="utf-8")
    result = run(cli, "--received", "2027-02-03", "--periods-file", str(periods))
    assert result.exit_code == 1
    assert "denunciation.resolution_days must be a whole number from 1 to 365" in result.stderr
    assert "phải là số nguyên" in result.stderr
    result = run(cli, "--received", "2027-02-03", "--holidays-file", str(tmp_path / "absent"))
    assert result.exit_code == 1 and "absent" in result.stderr and result.stdout == ""
