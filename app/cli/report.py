"""``report``: the quarter's figures for the inspectorate's periodic report, as DOCX or
CSV (app.cases.periodic_report). It reads aggregates only and decrypts nothing; the
one thing it writes to the database is the audit event of the export, like the
dashboard's CSV download ("dashboard.exported", with which quarter and format)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from app import audit, clock
from app.actors import operator_actor
from app.cases import periodic_report, unit_of_work
from app.cases.outcome_statistics import period_figures
from app.cases.reporting_periods import PeriodError, is_completed, quarter
from app.cli.errors import fail
from app.web.db import get_database


@click.command("report")
@click.option("--year", type=int, required=True, help="The report's year, e.g. 2026.")
@click.option("--quarter", "number", type=int, required=True, help="The quarter: 1 to 4.")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The file to write.",
)
@click.option("--csv", "as_csv", is_flag=True, help="Write CSV (UTF-8 with BOM), not DOCX.")
@with_appcontext
def report_command(year: int, number: int, output: Path, as_csv: bool) -> None:
    """Write a quarter's figures (the data period of Thông tư 01/2024/TT-TTCP)."""
    try:
        period = quarter(year, number)
    except PeriodError as exc:
        fail(str(exc))
    if output.exists():
        fail(f"{output} exists; choose a new file name")
    with unit_of_work.transaction(get_database().sessionmaker) as db:
        [figures] = period_figures(db, [period])
        data = (
            periodic_report.render_csv(figures).encode("utf-8")
            if as_csv
            else periodic_report.render_docx(figures)
        )
        audit.record(
            db,
            actor=operator_actor(),
            action="dashboard.exported",
            details={"report": period.key, "format": "csv" if as_csv else "docx"},
        )
    try:
        output.write_bytes(data)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}")
    if not is_completed(period, clock.today()):
        click.echo(
            f"note: {period.label_vi} ends on {period.last_day:%d/%m/%Y}; "
            "its figures will still change",
            err=True,
        )
    click.echo(
        f"{period.label_vi} ({period.first_day:%d/%m/%Y}-{period.last_day:%d/%m/%Y}) "
        f"written to {output}"
    )
