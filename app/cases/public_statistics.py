"""The figures the intake publishes to everyone at ``/statistics``: what happened to
reports, per completed reporting quarter.

Only completed quarters. A public page read by the accused must not tell them that a
report just arrived, or that one just moved: so nothing of the running quarter is ever
published. The quarters are the data periods of the inspection sector's periodic
reports (app.cases.reporting_periods), so the page and ``flask report`` print the same
figures for the same quarter.

Computed on request, not cached, and why that is enough. Every figure is dated by its
own event (app.cases.outcome_statistics: a case by the day it arrived, a referral by
its dispatch day, a conclusion by its day, a recovery by its ledger day), and only
events whose day falls in a completed quarter are counted. A report that arrives today,
or an old case referred today, lands in the running quarter and appears on this page
only after the quarter has closed, together with everything else of those three
months. The published figures of a closed quarter change afterwards only when staff
record an event late with a day in that quarter (a referral entered a week after its
dispatch), or when a case is purged; either says no more than the quarter's figure
already does. A stored snapshot per quarter would freeze such late entries out and
need its own table; computing on request keeps one source of truth and no state in
the intake (no process memory, no file). The cost is one grouped query per figure over
the last :data:`PUBLISHED_QUARTERS` quarters' days, whatever the number of cases.

Same suppression as the dashboard: counts of 1 to 4 and amounts from fewer than 5 cases
are withheld; each cell on its own, since the quarters do not add up to a published
total. Nothing is decrypted and only aggregates leave the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from app.cases.outcome_statistics import Figure, Money, PeriodFigures, period_figures
from app.cases.reporting_periods import completed_quarters

# A year of quarters: enough to see a trend, and every quarter shown is a closed one.
PUBLISHED_QUARTERS = 4

# What the public page shows, in its order: received, handled, founded, referred,
# prosecuted; and the money recovered.
PUBLIC_FIGURES = (
    Figure.RECEIVED,
    Figure.HANDLED,
    Figure.CONCLUDED,
    Figure.REFERRED,
    Figure.PROSECUTED,
)
PUBLIC_MONEY = (Money.RECOVERED,)


@dataclass(frozen=True)
class PublicStatistics:
    today: date
    quarters: tuple[PeriodFigures, ...]  # oldest first; all completed before ``today``


def public_statistics(session: Session, today: date) -> PublicStatistics:
    periods = completed_quarters(today, PUBLISHED_QUARTERS)
    return PublicStatistics(today, tuple(period_figures(session, periods)))
