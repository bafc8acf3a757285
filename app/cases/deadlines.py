"""Case deadlines from the installation's rules (config.settings.Deadlines).

Due dates are days, not instants: cases keep only the day they arrived, and a deadline
is met or missed by the day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from config.settings import Deadlines

DUE_SOON_DAYS = 2


class DeadlineState(StrEnum):
    MET = "met"
    OPEN = "open"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class InitialDeadlines:
    acknowledge: date
    decision: date
    feedback: date


def initial_deadlines(created: date, rules: Deadlines) -> InitialDeadlines:
    return InitialDeadlines(
        acknowledge=created + timedelta(days=rules.acknowledge_days),
        decision=created + timedelta(days=rules.decision_days),
        feedback=created + timedelta(days=rules.feedback_days),
    )


def deadline_state(due: date | None, done: bool, today: date) -> DeadlineState:
    if done or due is None:
        return DeadlineState.MET
    if today > due:
        return DeadlineState.OVERDUE
    if (due - today).days <= DUE_SOON_DAYS:
        return DeadlineState.DUE_SOON
    return DeadlineState.OPEN
