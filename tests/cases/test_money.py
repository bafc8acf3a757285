"""Amounts in đồng: read the Vietnamese way or as bare digits, refused rather than
guessed, shown the Vietnamese way."""

from __future__ import annotations

import pytest

from app.cases.money import MAX_VND, AmountError, check_vnd, format_vnd, parse_vnd


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1.250.000.000", 1_250_000_000),
        ("1250000000", 1_250_000_000),
        ("1.250.000.000 ₫", 1_250_000_000),
        ("  300.000.000 đồng ", 300_000_000),
        ("1.500", 1500),  # a dot groups thousands in Vietnamese
        ("0", 0),
        ("", 0),
        ("10.000.000.000.000.000", MAX_VND),
    ],
)
def test_amounts_are_read(text: str, amount: int) -> None:
    assert parse_vnd(text) == amount


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("-5.000", "negative"),
        ("1,5", "decimal"),
        ("1.5", "decimal"),
        ("1250000,00", "decimal"),
        ("12.34", "decimal"),
        ("1.2345.000", "not_a_number"),
        ("1e9", "not_a_number"),
        ("một tỷ", "not_a_number"),
        ("10.000.000.000.000.001", "too_large"),
        ("9" * 5000, "too_large"),
    ],
)
def test_bad_amounts_are_refused(text: str, code: str) -> None:
    with pytest.raises(AmountError) as refused:
        parse_vnd(text)
    assert refused.value.code == code


def test_a_correction_may_be_negative_but_never_zero() -> None:
    assert parse_vnd("-50.000.000", signed=True, allow_zero=False) == -50_000_000
    with pytest.raises(AmountError):
        parse_vnd("0", signed=True, allow_zero=False)
    with pytest.raises(AmountError):
        check_vnd(-1)
    with pytest.raises(AmountError):
        check_vnd(1.5)  # type: ignore[arg-type]


def test_amounts_are_shown_the_vietnamese_way() -> None:
    assert format_vnd(1_250_000_000) == "1.250.000.000\u00a0₫"
    assert format_vnd(1_250_000_000, "en") == "1,250,000,000\u00a0₫"
    assert format_vnd(-50_000_000) == "-50.000.000\u00a0₫"
    assert format_vnd(0) == "0\u00a0₫"
