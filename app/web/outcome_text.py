"""How outcome figures read on a page, in the page's language: their names, and the
text of a published or withheld cell. One place for both faces (the oversight dashboard
and the intake's public statistics), so both say the same thing the same way."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.cases.money import format_vnd
from app.cases.outcome_statistics import Amount, Figure, Money
from app.cases.statistics import SMALL_LABEL, Count, Withheld
from app.web.i18n import select_locale

FIGURE_NAMES = {
    Figure.RECEIVED: _l("Reports received"),
    Figure.ACCEPTED: _l("Denunciations accepted"),
    Figure.CONCLUDED: _l("Concluded founded or partly founded"),
    Figure.HANDLED: _l("Concluded on the merits"),
    Figure.REFERRED: _l("Referred to the investigation agency"),
    Figure.PROSECUTED: _l("Prosecution decided"),
    Figure.DISCIPLINED: _l("People disciplined"),
}
MONEY_NAMES = {
    Money.FOUND: _l("Damage found"),
    Money.RECOMMENDED: _l("Recovery recommended"),
    Money.RECOVERED: _l("Recovered"),
}
RATE_NAME = _l("Recovery rate")
NO_RATE = "—"


def count_text(count: Count) -> str:
    if count.withheld is Withheld.SMALL:
        return SMALL_LABEL
    if count.withheld is Withheld.COMPLEMENTARY:
        return str(_("withheld"))
    return str(count.value)


def amount_text(amount: Amount, *, styled: bool = True) -> str:
    """``1.250.000.000 ₫`` (app.cases.money, in the page's language); with
    ``styled=False`` the bare number of đồng, for a spreadsheet to compute with."""
    if amount.withheld is Withheld.SMALL:
        return str(_("fewer than 5 cases"))
    if amount.withheld is Withheld.COMPLEMENTARY:
        return str(_("withheld"))
    value = amount.value or 0
    return format_vnd(value, select_locale()) if styled else str(value)


def rate_text(rate: float | None) -> str:
    """``31,7 %`` in Vietnamese (decimal comma), ``31.7 %`` in English."""
    if rate is None:
        return NO_RATE
    number = f"{rate:.1f}"
    if select_locale() == "vi":
        number = number.replace(".", ",")
    return f"{number}\u00a0%"
