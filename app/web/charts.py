"""Horizontal bar charts drawn on the server as inline SVG.

No JavaScript and no ``style`` attributes (the Content-Security-Policy allows neither
inline scripts nor inline styles): colours and sizes are SVG presentation attributes
(``fill``, ``font-size``), which CSP does not govern, plus classes for review.css.

Each chart is ``role="img"`` with a ``<title>`` (its accessible name, through
``aria-labelledby``) and a ``<desc>`` (``aria-describedby``); the page puts a table with
the same numbers beside it, because an image's bars are not navigable by a screen
reader. Withheld counts (:mod:`app.cases.statistics`) have no length to draw: they get a
short hatched grey bar of fixed width and their label ("< 5"), never a guessed size.

All text is escaped, labels included, although they come from our own vocabulary.

It lives in app.web because both faces draw them: the review app's oversight dashboard
and the intake's public statistics page (which must not import app.review).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from app.cases.statistics import Count, Withheld

WIDTH = 560
LABEL_WIDTH = 230  # left column: the bar's name, right-aligned
VALUE_WIDTH = 80  # right column: the number
BAR_AREA = WIDTH - LABEL_WIDTH - VALUE_WIDTH - 16
ROW_HEIGHT = 26
BAR_HEIGHT = 16
TOP = 8
WITHHELD_WIDTH = 10  # fixed: a withheld count's bar says "there is something", no size
MAX_LABEL_CHARS = 34
BAR_FILL = "#0b5394"
WITHHELD_FILL = "#9aa0a6"
_ID = re.compile(r"^[a-z][a-z0-9-]{0,40}$")


class ChartError(ValueError):
    """A chart that cannot be drawn as asked (a bad element id)."""


@dataclass(frozen=True)
class Bar:
    label: str  # display text, already translated
    count: Count  # the bar's length; an amount in đồng is a Count too
    text: str | None = None  # how a published value reads ("1.250.000.000 ₫"); else the number


@dataclass(frozen=True)
class ValueTexts:
    """How withheld values read in the chart, in the page's language."""

    small: str = "< 5"
    withheld: str = "withheld"

    def of(self, count: Count, text: str | None = None) -> str:
        if count.withheld is Withheld.SMALL:
            return self.small
        if count.withheld is Withheld.COMPLEMENTARY:
            return self.withheld
        return text if text is not None else str(count.value)


def _short(label: str) -> str:
    label = " ".join(label.split())
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[Bar],
    texts: ValueTexts | None = None,
) -> Markup:
    """An accessible SVG bar chart; ``chart_id`` prefixes the ids inside (unique per page)."""
    if not _ID.match(chart_id):
        raise ChartError(f"chart id {chart_id!r} must be lowercase letters, digits or dashes")
    texts = texts or ValueTexts()
    height = TOP * 2 + ROW_HEIGHT * max(len(bars), 1)
    largest = max((b.count.value or 0 for b in bars), default=0) or 1
    hatch = f"{chart_id}-hatch"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'aria-labelledby="{chart_id}-title" aria-describedby="{chart_id}-desc" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
        "<defs>"
        f'<pattern id="{hatch}" width="4" height="4" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)">'
        f'<rect width="4" height="4" fill="#e8eaed"/>'
        f'<line x1="0" y1="0" x2="0" y2="4" stroke="{WITHHELD_FILL}" stroke-width="2"/>'
        "</pattern></defs>",
    ]
    for i, bar in enumerate(bars):
        y = TOP + i * ROW_HEIGHT
        text_y = y + BAR_HEIGHT - 3
        withheld = bar.count.value is None
        if withheld:
            width = WITHHELD_WIDTH
            shape = (
                f'<rect class="bar bar-withheld" x="{LABEL_WIDTH}" y="{y}" width="{width}" '
                f'height="{BAR_HEIGHT}" fill="url(#{hatch})" stroke="{WITHHELD_FILL}"/>'
            )
        else:
            # A negative sum (a month whose ledger corrections outweigh its entries) has
            # no bar: SVG widths cannot be negative. The value beside it says it.
            width = max(0, round(BAR_AREA * (bar.count.value or 0) / largest))
            shape = (
                f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{width}" '
                f'height="{BAR_HEIGHT}" fill="{BAR_FILL}"/>'
            )
        parts.append(
            '<g class="chart-row">'
            f'<text class="chart-label" x="{LABEL_WIDTH - 8}" y="{text_y}" '
            f'text-anchor="end" font-size="12">{escape(_short(bar.label))}</text>'
            f"{shape}"
            f'<text class="chart-value" x="{LABEL_WIDTH + width + 6}" y="{text_y}" '
            f'font-size="12">{escape(texts.of(bar.count, bar.text))}</text>'
            "</g>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every piece of text above is escaped
