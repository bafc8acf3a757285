"""Amounts in đồng as people read them: 1.250.000.000 ₫.

Amounts are whole đồng (integers, never floats: app.models.outcomes). Vietnamese groups
thousands with a dot and puts the symbol after the number; the issue asks for that
style on every screen and in every document, in both languages, so that a figure pasted
from the English page into a Vietnamese report reads the same.
"""

from __future__ import annotations

CURRENCY = "₫"


def group_thousands(amount: int) -> str:
    """``1250000000`` -> ``1.250.000.000`` (a minus sign kept in front)."""
    return f"{amount:,}".replace(",", ".")


def format_vnd(amount: int) -> str:
    """``1250000000`` -> ``1.250.000.000 ₫``; the space is a no-break space."""
    return f"{group_thousands(amount)}\u00a0{CURRENCY}"
