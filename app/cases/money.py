"""Amounts of money in Vietnamese đồng: whole numbers, never floats.

The đồng has no subunit in use, so an amount is an ``int`` from the form to the
database (BIGINT) and back. Staff type amounts the Vietnamese way ("1.250.000.000",
dots group thousands) or as bare digits ("1250000000"); spaces and a trailing "đ",
"₫" or "VND" are allowed. A comma, a decimal part, a sign where none is allowed, an
exponent or a misplaced group are refused rather than guessed: "1,5" could be 1.5 or
15, and an amount that is wrong by a factor of a thousand is worse than a refusal.
"""

from __future__ import annotations

import re

# 10 million billion đồng (10^16, about 400 billion US dollars): above the largest case
# ever tried in Vietnam (Vạn Thịnh Phát, about 6.8 * 10^14 đồng) by more than ten times,
# and far below BIGINT, so that sums of many entries cannot overflow either.
MAX_VND = 10**16

_GROUPED = re.compile(r"\d{1,3}(?:\.\d{3})+")
_PLAIN = re.compile(r"\d+")
_CURRENCY = re.compile(r"\s*(?:₫|đ|đồng|vnd|vnđ)\s*$", re.IGNORECASE)


class AmountError(ValueError):
    """An amount that cannot be read; ``code`` says why (for the view's message):
    "not_a_number", "negative", "decimal", "too_large" or "zero"."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def parse_vnd(text: str, *, signed: bool = False, allow_zero: bool = True) -> int:
    """The amount typed in ``text``, in đồng. Empty is 0 (when zero is allowed).

    ``signed``: a leading minus is allowed (a correcting ledger entry). Raises
    :class:`AmountError` for anything else, including a value above :data:`MAX_VND`.
    """
    value = _CURRENCY.sub("", text.strip()).replace(" ", "").replace("\u00a0", "")
    negative = value.startswith(("-", "−"))
    if negative:
        if not signed:
            raise AmountError("negative")
        value = value[1:]
    if value == "" and not negative:
        if not allow_zero:
            raise AmountError("zero")
        return 0
    if "," in value or re.fullmatch(r"\d+\.\d{1,2}", value):
        raise AmountError("decimal")
    if len(value) > 32:  # more digits than any amount below MAX_VND, grouped or not
        raise AmountError("too_large")
    if not (_GROUPED.fullmatch(value) or _PLAIN.fullmatch(value)):
        raise AmountError("not_a_number")
    amount = int(value.replace(".", ""))
    if amount > MAX_VND:
        raise AmountError("too_large")
    if amount == 0 and not allow_zero:
        raise AmountError("zero")
    return -amount if negative else amount


def check_vnd(amount: int, *, signed: bool = False) -> int:
    """The same limits for an amount given as a number (the domain's own check)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise AmountError("not_a_number")
    if amount < 0 and not signed:
        raise AmountError("negative")
    if abs(amount) > MAX_VND:
        raise AmountError("too_large")
    return amount


def format_vnd(amount: int, locale: str = "vi") -> str:
    """``1.250.000.000 ₫`` in Vietnamese (dots group thousands, the sign after the
    number); ``1,250,000,000 ₫`` in English (commas, the sign still after: the same
    place on both pages, and how Vietnamese amounts are usually written in English
    documents of the city)."""
    grouped = f"{abs(amount):,}"
    if not locale.startswith("en"):
        grouped = grouped.replace(",", ".")
    sign = "-" if amount < 0 else ""
    return f"{sign}{grouped}\u00a0₫"
