"""The oversight dashboard (observers, the city's steering committee, and admins).

Parse nothing, call :func:`app.cases.statistics.oversight_statistics` and
:func:`app.cases.outcome_statistics.outcome_statistics`, render. It reads
only columns in clear and never decrypts: this module imports nothing that holds keys
(no ``app.cases.reading``, no ``crypto``). Every view and export is audited.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from flask import Response, get_template_attribute, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markupsafe import Markup

from app import audit, clock
from app.cases import unit_of_work
from app.cases.outcome_statistics import (
    DASHBOARD_FIGURES,
    Money,
    OutcomeRow,
    OutcomeStats,
    OutcomeTable,
    outcome_statistics,
)
from app.cases.statistics import (
    OversightStats,
    Row,
    export_rows,
    oversight_statistics,
    record_dashboard_use,
)
from app.models.vocabulary import Role
from app.review import blueprint
from app.review.approvals import access_notices
from app.review.auth import current_reviewer, role_required
from app.web.charts import Bar, ValueTexts, bar_chart
from app.web.db import db_session, get_database
from app.web.i18n import select_locale
from app.web.outcome_text import (
    FIGURE_NAMES,
    MONEY_NAMES,
    RATE_NAME,
    amount_text,
    count_text,
    rate_text,
)

DASHBOARD_ROLES = (Role.OBSERVER.value, Role.ADMIN.value)


@dataclass(frozen=True)
class ChartView:
    """A chart and the rows of the table beside it (same numbers, for screen readers)."""

    id: str
    title: str
    svg: Markup
    bars: tuple[Bar, ...]
    heading: str = ""  # the table's value column; "Cases" unless said


@dataclass(frozen=True)
class OutcomeTableView:
    """One outcome table as the page and the CSV show it: already texts."""

    id: str
    title: str
    group: str  # the first column's heading
    rows: tuple[tuple[str, tuple[str, ...]], ...]  # (group label, cells)
    total: tuple[str, ...]


def _today() -> date:
    return clock.today()


def _audit(*, exported: bool) -> None:
    reviewer = current_reviewer()
    assert reviewer is not None  # role_required ran
    # Its own short transaction: the page itself was read without the write lock.
    with unit_of_work.transaction(get_database().sessionmaker) as db:
        record_dashboard_use(db, reviewer.id, exported=exported)


def _label(macro: str, key: str) -> str:
    # The display names live once, in labels.html, for both faces and both languages.
    return str(get_template_attribute("labels.html", macro)(key)).strip()


def _chart(chart_id: str, title: str, bars: list[Bar], *, amounts: bool = False) -> ChartView:
    description = _("Bar chart. The table beside it gives the same numbers.")
    small = _("fewer than 5 cases") if amounts else "< 5"
    texts = ValueTexts(small=small, withheld=_("withheld"))
    svg = bar_chart(chart_id, title, description, bars, texts)
    heading = _("Amount") if amounts else _("Cases")
    return ChartView(chart_id, title, svg, tuple(bars), heading)


def _month(key: str) -> str:
    year, month = key.split("-")
    return f"{month}/{year}"  # the site writes dates day/month/year


def _bars(rows: tuple[Row, ...], macro: str) -> list[Bar]:
    return [Bar(_label(macro, row.key), row.count) for row in rows]


def _charts(stats: OversightStats, outcomes: OutcomeStats) -> list[ChartView]:
    locale = select_locale()
    units = [
        Bar(
            stats.unit_names[row.key].name(locale) if row.key in stats.unit_names else row.key,
            row.count,
        )
        for row in stats.by_unit
    ]
    now = {row.key: row.count for row in stats.routed_now}
    ever = {row.key: row.count for row in stats.routed_ever}
    routing = [
        Bar(_("Now at inspection"), now["inspection"]),
        Bar(_("Now at investigation"), now["investigation"]),
        Bar(_("Ever routed to inspection"), ever["inspection"]),
        Bar(_("Ever routed to investigation"), ever["investigation"]),
    ]
    overdue_names = {
        "acknowledge": _("Acknowledgment overdue"),
        "decision": _("Decision overdue"),
        "feedback": _("Feedback overdue"),
        "any": _("Any deadline overdue"),
    }
    statutory_names = {
        "acceptance": _("Statutory acceptance decision overdue"),
        "resolution": _("Statutory resolution overdue"),
    }
    protection_names = {
        "open": _("Open protection requests"),
        "overdue": _("Overdue protection requests"),
    }
    overdue = [Bar(overdue_names[row.key], row.count) for row in stats.overdue]
    overdue += [Bar(statutory_names[row.key], row.count) for row in stats.statutory_overdue]
    overdue.append(Bar(_("Referral verification overdue"), outcomes.referrals_overdue))
    return [
        _chart("by-category", _("Cases by category"), _bars(stats.by_category, "category")),
        _chart("by-sector", _("Cases by sector"), _bars(stats.by_sector, "sector")),
        _chart("by-status", _("Cases by status"), _bars(stats.by_status, "status")),
        _chart("by-unit", _("Cases by holding unit"), units),
        _chart(
            "by-month",
            _("Cases by month of arrival"),
            [Bar(_month(row.key), row.count) for row in stats.by_month],
        ),
        _chart("routing", _("Inspection and investigation"), routing),
        _chart("overdue", _("Open cases with an overdue deadline"), overdue),
        _chart(
            "protection",
            _("Whistleblower protection requests"),
            [Bar(protection_names[row.key], row.count) for row in stats.protection],
        ),
        *_outcome_charts(outcomes),
    ]


def _outcome_charts(outcomes: OutcomeStats) -> list[ChartView]:
    total = outcomes.by_category.total
    figures = [Bar(str(FIGURE_NAMES[f]), total.counts[f]) for f in DASHBOARD_FIGURES]
    money = [
        Bar(str(MONEY_NAMES[m]), total.amounts[m].count, amount_text(total.amounts[m]))
        for m in Money
    ]
    recovered = [
        Bar(
            _month(row.key),
            row.amounts[Money.RECOVERED].count,
            amount_text(row.amounts[Money.RECOVERED]),
        )
        for row in outcomes.by_month.rows
    ]
    return [
        _chart("outcomes", _("What came of the reports"), figures),
        _chart("amounts", _("Amounts (đồng)"), money, amounts=True),
        _chart("recovered-by-month", _("Recovered by month"), recovered, amounts=True),
    ]


def _outcome_cells(row: OutcomeRow, styled: bool) -> tuple[str, ...]:
    return (
        *(count_text(row.counts[f]) for f in DASHBOARD_FIGURES),
        *(amount_text(row.amounts[m], styled=styled) for m in Money),
        rate_text(row.rate),
    )


def outcome_headings(*, amount_unit: bool = False) -> tuple[str, ...]:
    unit = f" ({_('đồng')})" if amount_unit else ""
    return (
        *(str(FIGURE_NAMES[f]) for f in DASHBOARD_FIGURES),
        *(f"{MONEY_NAMES[m]}{unit}" for m in Money),
        str(RATE_NAME),
    )


def _outcome_table(
    table_id: str, title: str, group: str, table: OutcomeTable, styled: bool
) -> OutcomeTableView:
    if table.dimension == "month":
        label = _month
    else:
        macro = table.dimension

        def label(key: str) -> str:
            return _label(macro, key)

    return OutcomeTableView(
        table_id,
        title,
        group,
        tuple((label(row.key), _outcome_cells(row, styled)) for row in table.rows),
        _outcome_cells(table.total, styled),
    )


def _outcome_tables(outcomes: OutcomeStats, *, styled: bool = True) -> list[OutcomeTableView]:
    """The page's tables; ``styled=False`` for the CSV (amounts as bare đồng)."""
    return [
        _outcome_table(
            "outcomes-by-month", _("Outcomes by month"), _("Month"), outcomes.by_month, styled
        ),
        _outcome_table(
            "outcomes-by-category",
            _("Outcomes by category"),
            _("Category"),
            outcomes.by_category,
            styled,
        ),
        _outcome_table(
            "outcomes-by-sector", _("Outcomes by sector"), _("Sector"), outcomes.by_sector, styled
        ),
    ]


@blueprint.get("/dashboard")
@role_required(*DASHBOARD_ROLES)
def dashboard() -> ResponseReturnValue:
    today = _today()
    stats = oversight_statistics(db_session(), today)
    outcomes = outcome_statistics(db_session(), today)
    page = render_template(
        "review/dashboard.html",
        stats=stats,
        charts=_charts(stats, outcomes),
        outcome_tables=_outcome_tables(outcomes),
        outcome_headings=outcome_headings(),
        # The anchor: observers write it down outside; `audit verify --head` checks it.
        audit_head=audit.head(db_session()),
        access_notices=access_notices(),
    )
    _audit(exported=False)
    return page


@blueprint.get("/dashboard.csv")
@role_required(*DASHBOARD_ROLES)
def dashboard_csv() -> ResponseReturnValue:
    today = _today()
    stats = oversight_statistics(db_session(), today)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(("table", "key", "value"))
    writer.writerows(export_rows(stats))
    _audit(exported=True)
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.headers.set(
        "Content-Disposition", "attachment", filename=f"liemchinh-statistics-{today}.csv"
    )
    return response


# Excel reads a CSV as the machine's legacy code page unless it starts with a byte-order
# mark: with it, "Số vụ việc" stays "Số vụ việc" instead of "Sá»‘ vá»¥ viá»‡c".
UTF8_BOM = "\ufeff"


@blueprint.get("/dashboard/outcomes.csv")
@role_required(*DASHBOARD_ROLES)
def dashboard_outcomes_csv() -> ResponseReturnValue:
    """The outcome tables as one CSV, with the page's headings (Vietnamese unless the
    reader chose English) and the same withheld cells."""
    today = _today()
    outcomes = outcome_statistics(db_session(), today)
    buffer = io.StringIO()
    buffer.write(UTF8_BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow((_("Table"), _("Group"), *outcome_headings(amount_unit=True)))
    for table in _outcome_tables(outcomes, styled=False):
        writer.writerows((table.title, label, *cells) for label, cells in table.rows)
        writer.writerow((table.title, _("Total"), *table.total))
    _audit(exported=True)
    response = Response(buffer.getvalue(), mimetype="text/csv")
    response.mimetype_params["charset"] = "utf-8"
    response.headers.set(
        "Content-Disposition", "attachment", filename=f"liemchinh-outcomes-{today}.csv"
    )
    return response
