"""``/statistics``: where reports lead, for everyone, without login or script.

Parse nothing, call :func:`app.cases.public_statistics.public_statistics`, render. It
reads aggregates of completed quarters only (see that module for why the running
quarter is never shown), writes nothing and logs nothing; like every intake page it
loads nothing from another origin and needs no JavaScript (SVG drawn on the server,
a table beside each chart). The language is the intake's own choice (``?lang=en``,
remembered in the session), never the browser's Accept-Language.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template
from flask_babel import gettext as _
from markupsafe import Markup

from app import clock
from app.cases.outcome_statistics import PeriodFigures
from app.cases.public_statistics import PUBLIC_FIGURES, PUBLIC_MONEY, public_statistics
from app.cases.reporting_periods import Quarter
from app.intake import blueprint
from app.web.charts import Bar, ValueTexts, bar_chart
from app.web.db import db_session
from app.web.i18n import select_locale
from app.web.outcome_text import FIGURE_NAMES, MONEY_NAMES, amount_text, count_text


@dataclass(frozen=True)
class PublicChart:
    id: str
    title: str
    svg: Markup
    heading: str
    rows: tuple[tuple[str, str], ...]  # (quarter, value as text)


def _quarter_name(period: Quarter) -> str:
    if select_locale() == "vi":
        return period.label_vi
    return f"Q{period.number} {period.year}"


def _chart(chart_id: str, title: str, bars: list[Bar], heading: str, small: str) -> PublicChart:
    description = _("Bar chart. The table beside it gives the same numbers.")
    texts = ValueTexts(small=small, withheld=_("withheld"))
    svg = bar_chart(chart_id, title, description, bars, texts)
    rows = tuple((bar.label, texts.of(bar.count, bar.text)) for bar in bars)
    return PublicChart(chart_id, title, svg, heading, rows)


def _charts(quarters: tuple[PeriodFigures, ...]) -> list[PublicChart]:
    charts = []
    for figure in PUBLIC_FIGURES:
        bars = [
            Bar(_quarter_name(q.period), q.counts[figure], count_text(q.counts[figure]))
            for q in quarters
        ]
        charts.append(
            _chart(f"public-{figure.value}", str(FIGURE_NAMES[figure]), bars, _("Cases"), "< 5")
        )
    for money in PUBLIC_MONEY:
        bars = [
            Bar(_quarter_name(q.period), q.amounts[money].count, amount_text(q.amounts[money]))
            for q in quarters
        ]
        title = f"{MONEY_NAMES[money]} ({_('đồng')})"
        charts.append(
            _chart(f"public-{money.value}", title, bars, _("Amount"), _("fewer than 5 cases"))
        )
    return charts


@blueprint.get("/statistics")
def statistics() -> str:
    published = public_statistics(db_session(), clock.today())
    periods = [
        (_quarter_name(q.period), q.period.first_day, q.period.last_day) for q in published.quarters
    ]
    return render_template(
        "intake/statistics.html",
        charts=_charts(published.quarters),
        periods=periods,
        scriptless=True,
    )
