"""The oversight dashboard (observers, the city's steering committee, and admins).

Parse nothing, call :func:`app.cases.statistics.oversight_statistics`, render. It reads
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

DASHBOARD_ROLES = (Role.OBSERVER.value, Role.ADMIN.value)


@dataclass(frozen=True)
class ChartView:
    """A chart and the rows of the table beside it (same numbers, for screen readers)."""

    id: str
    title: str
    svg: Markup
    bars: tuple[Bar, ...]


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


def _chart(chart_id: str, title: str, bars: list[Bar]) -> ChartView:
    description = _("Bar chart. The table beside it gives the same numbers.")
    texts = ValueTexts(small="< 5", withheld=_("withheld"))
    svg = bar_chart(chart_id, title, description, bars, texts)
    return ChartView(chart_id, title, svg, tuple(bars))


def _month(key: str) -> str:
    year, month = key.split("-")
    return f"{month}/{year}"  # the site writes dates day/month/year


def _bars(rows: tuple[Row, ...], macro: str) -> list[Bar]:
    return [Bar(_label(macro, row.key), row.count) for row in rows]


def _charts(stats: OversightStats) -> list[ChartView]:
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
        _chart(
            "overdue",
            _("Open cases with an overdue deadline"),
            [Bar(overdue_names[row.key], row.count) for row in stats.overdue],
        ),
    ]


@blueprint.get("/dashboard")
@role_required(*DASHBOARD_ROLES)
def dashboard() -> ResponseReturnValue:
    stats = oversight_statistics(db_session(), _today())
    page = render_template(
        "review/dashboard.html",
        stats=stats,
        charts=_charts(stats),
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
