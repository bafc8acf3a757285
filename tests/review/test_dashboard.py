"""The oversight dashboard: who may see it, what it shows (the known numbers, with small
counts withheld), how it is drawn (SVG with title and desc, a table beside each chart,
no script, no inline style), the CSV download, the audit trail, and that no report
content ever reaches it."""

from __future__ import annotations

import ast
import csv
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select

# Registers the routes on the review blueprint before any app is made (until
# app/review/__init__.py imports it).
import app.cases.outcome_statistics
import app.cases.periodic_report
import app.cases.public_statistics
import app.cases.statistics
import app.cli.report
import app.intake.statistics
import app.review.dashboard
import app.web.charts
import app.web.outcome_text
from app.cases.statistics import export_rows, oversight_statistics
from app.database import Database
from app.models import AuditEvent
from tests.cases.test_statistics import TODAY, seed_known_cases
from tests.factories import Staff
from tests.review.conftest import ReportFactory, StaffFactory

pytestmark = pytest.mark.both_backends


@pytest.fixture
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """The day the known cases' numbers were worked out for."""
    monkeypatch.setattr(app.review.dashboard, "_today", lambda: TODAY)


@pytest.fixture
def observer(staff: StaffFactory) -> Staff:
    return staff("ban-chi-dao", "oversight", role="observer")


def _page(who: Staff) -> str:
    response = who.client.get("/dashboard")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return str(response.get_data(as_text=True))


def _csv(who: Staff) -> list[list[str]]:
    response = who.client.get("/dashboard.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    today = app.review.dashboard._today().isoformat()
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=liemchinh-statistics-{today}.csv"
    )
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def _table_cell(html: str, label: str) -> str:
    """The value beside ``label`` in the first table row that names it."""
    match = re.search(
        r"<tr><th scope=\"row\">" + re.escape(label) + r"</th><td>([^<]*)</td></tr>", html
    )
    assert match, f"no row {label!r}"
    return match.group(1)


@pytest.mark.usefixtures("fixed_today")
def test_observer_sees_the_known_numbers(database: Database, observer: Staff) -> None:
    seed_known_cases(database)
    html = _page(observer)
    assert _table_cell(html, "Corruption") == "7"
    assert _table_cell(html, "Misconduct by officials") == "&lt; 5"
    assert _table_cell(html, "Waste of public funds or assets") == "withheld"
    assert _table_cell(html, "Education") == "5"
    assert _table_cell(html, "Health") == "10"
    assert _table_cell(html, "Routed to inspection") == "&lt; 5"
    assert _table_cell(html, "City Inspectorate") == "5"
    assert _table_cell(html, "Ever routed to inspection") == "5"
    assert _table_cell(html, "Ever routed to investigation") == "&lt; 5"
    assert _table_cell(html, "Decision overdue") == "5"
    assert _table_cell(html, "Any deadline overdue") == "12"
    assert _table_cell(html, "06/2026") == "&lt; 5"
    assert "2.5 days" in html and "30 days" in html


def test_the_page_is_svg_with_tables_and_no_script_or_inline_style(
    database: Database, observer: Staff
) -> None:
    seed_known_cases(database)
    response = observer.client.get("/dashboard")
    html = response.get_data(as_text=True)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "<script" not in html
    assert "style=" not in html
    charts = re.findall(r"<svg [^>]*>", html)
    assert len(charts) == 11  # seven tables of cases, the protection requests, three of outcomes
    for tag in charts:
        assert 'role="img"' in tag
        chart_id = re.search(r'aria-labelledby="([a-z-]+)-title"', tag)
        assert chart_id, tag
        assert f'aria-describedby="{chart_id.group(1)}-desc"' in tag
        assert f'<title id="{chart_id.group(1)}-title">' in html
        assert f'<desc id="{chart_id.group(1)}-desc">' in html
    assert html.count('<table class="chart-table">') == 11
    # Withheld counts are drawn as hatched bars, never with a length of their own.
    assert 'class="bar bar-withheld"' in html and 'fill="url(#by-category-hatch)"' in html


def test_admin_sees_it_too(database: Database, staff: StaffFactory) -> None:
    admin = staff("quan-tri", "intake", role="admin")
    assert "<svg" in _page(admin)
    assert _csv(admin)[0] == ["table", "key", "value"]


def test_reviewers_are_refused_and_strangers_sent_to_login(
    review_app: object, staff: StaffFactory
) -> None:
    reviewer = staff("thanh-tra", "inspection", role="reviewer")
    for path in ("/dashboard", "/dashboard.csv"):
        assert reviewer.client.get(path).status_code == 403
    stranger = staff("chua-dang-nhap", "oversight", role="observer", logged_in=False)
    for path in ("/dashboard", "/dashboard.csv"):
        response = stranger.client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


@pytest.mark.usefixtures("fixed_today")
def test_the_csv_has_the_same_numbers(database: Database, observer: Staff) -> None:
    seed_known_cases(database)
    rows = _csv(observer)
    assert rows[0] == ["table", "key", "value"]
    with database.read_session() as db:
        expected = export_rows(oversight_statistics(db, TODAY))
    assert [tuple(r) for r in rows[1:]] == expected
    assert ["category", "misconduct", "< 5"] in rows
    assert ["category", "corruption", "7"] in rows
    assert ["sector", "education", "5"] in rows
    assert ["overdue", "any", "12"] in rows


def test_views_and_exports_are_audited(
    database: Database, observer: Staff, staff: StaffFactory
) -> None:
    _page(observer)
    _csv(observer)
    with database.read_session() as db:
        events = db.execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.case_id)
            .where(AuditEvent.action.like("dashboard.%"))
            .order_by(AuditEvent.seq)
        ).all()
    actor = f"reviewer:{observer.id}"
    assert [tuple(e) for e in events] == [
        (actor, "dashboard.viewed", None),
        (actor, "dashboard.exported", None),
    ]
    # A refusal writes nothing.
    staff("khac", "intake").client.get("/dashboard")
    with database.read_session() as db:
        assert (
            len(db.scalars(select(AuditEvent.seq).where(AuditEvent.action.like("dash%"))).all())
            == 2
        )


def test_no_report_content_reaches_the_dashboard(
    database: Database, observer: Staff, report: ReportFactory
) -> None:
    sent = [report() for _ in range(5)]
    html = _page(observer)
    body = "\n".join(",".join(row) for row in _csv(observer))
    for page in (html, body):
        for one in sent:
            assert one.canary not in page
            assert one.reference not in page
            assert one.receipt not in page
            assert one.case_id not in page
        assert "age-encryption.org" not in page
    # And yet the five reports are counted.
    assert ["status", "new", "5"] in list(csv.reader(io.StringIO(body)))


def test_an_empty_installation_renders(observer: Staff) -> None:
    html = _page(observer)
    assert "<svg" in html and "No case yet" in html
    assert ["total", "cases", "0"] in _csv(observer)


def test_the_dashboard_code_holds_no_key(backend: str) -> None:
    """It cannot decrypt what it never imports."""
    for module in (
        app.review.dashboard,
        app.web.charts,
        app.cases.statistics,
        app.cases.outcome_statistics,
        app.web.outcome_text,
        app.cases.periodic_report,
        app.cli.report,
        app.cases.public_statistics,
        app.intake.statistics,
    ):
        source = Path(str(module.__file__)).read_text(encoding="utf-8")
        imported = {
            name
            for node in ast.walk(ast.parse(source))
            for name in (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
        }
        assert not {n for n in imported if n.split(".")[0] == "crypto"}, module.__name__
        assert not imported & {"app.cases.reading", "app.cases.keys", "app.cases.messages"}
