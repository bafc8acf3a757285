"""The audit log as people read it: usernames instead of ``reviewer:12``, unit names
instead of slugs, and one line for a run of "opened (decrypted)" events.

The log itself keeps its stable codes (app/audit.py); only the pages translate them, so
a renamed reviewer or unit reads with today's name everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from flask import g
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.actors import operator_of, reviewer_id_of
from app.models import Reviewer, Unit
from app.review import blueprint
from app.web.db import db_session

# Details whose value names a unit (by slug) or a reviewer (by actor label).
UNIT_KEYS = frozenset({"unit", "from_unit", "to_unit", "units", "excluded_units"})
REVIEWER_KEYS = frozenset({"assignee", "target", "reviewer", "approver", "requester"})
# A reviewer reloading a case after each action adds one of these every time.
COLLAPSED_ACTIONS = frozenset({"case.viewed"})


class _Event(Protocol):
    @property
    def actor(self) -> str: ...

    @property
    def action(self) -> str: ...


E = TypeVar("E", bound=_Event)


@dataclass(frozen=True)
class Run(Generic[E]):
    """One shown line: the newest/oldest event of a run and how many it stands for."""

    first: E
    last: E
    count: int


def collapse_repeats(events: Iterable[E]) -> list[Run[E]]:
    """Consecutive events of a collapsed kind by the same actor on the same case become
    one line; everything else stays as it is."""
    runs: list[Run[E]] = []
    for event in events:
        previous = runs[-1] if runs else None
        if (
            previous is not None
            and event.action in COLLAPSED_ACTIONS
            and _same_run(previous.last, event)
        ):
            runs[-1] = Run(previous.first, event, previous.count + 1)
        else:
            runs.append(Run(event, event, 1))
    return runs


def _same_run(a: _Event, b: _Event) -> bool:
    return (
        a.action == b.action
        and a.actor == b.actor
        and getattr(a, "case_id", None) == getattr(b, "case_id", None)
    )


class AuditNames:
    """Names for the actors and units of one page, looked up once per request."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self._reviewers: dict[int, str] | None = None
        self._units: dict[str, str] | None = None

    def _reviewer_names(self) -> dict[int, str]:
        if self._reviewers is None:
            rows = db_session().execute(select(Reviewer.id, Reviewer.username))
            self._reviewers = {row.id: row.username for row in rows}
        return self._reviewers

    def _unit_names(self) -> dict[str, str]:
        if self._units is None:
            self._units = {u.slug: u.name(self.locale) for u in db_session().scalars(select(Unit))}
        return self._units

    def actor(self, label: str) -> str:
        reviewer_id = reviewer_id_of(label)
        if reviewer_id is not None:
            name = self._reviewer_names().get(reviewer_id)
            return name if name is not None else _("deleted account #%(id)s", id=reviewer_id)
        operator = operator_of(label)
        if operator is not None:
            return str(
                _("command line (%(user)s)", user=operator) if operator else _("command line")
            )
        fixed = {"reporter": _("the reporter"), "system": _("the system")}
        return str(fixed.get(label, label))

    def unit(self, slug: str) -> str:
        return self._unit_names().get(slug, slug)

    def detail(self, key: str, value: object) -> str:
        if key in UNIT_KEYS:
            return self._names(value, self.unit)
        if key in REVIEWER_KEYS:
            return self._names(value, self.actor)
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return "—" if value is None else str(value)

    @staticmethod
    def _names(value: object, name: Callable[[str], str]) -> str:
        if value is None:
            return "—"
        values: Sequence[object] = value if isinstance(value, list) else [value]
        return ", ".join(name(str(v)) for v in values)

    def details(self, details: Mapping[str, object]) -> list[tuple[str, str]]:
        return [(key, self.detail(key, value)) for key, value in details.items()]


def audit_names() -> AuditNames:
    names: AuditNames | None = g.get("audit_names")
    if names is None:
        names = g.audit_names = AuditNames(str(get_locale() or "vi"))
    return names


@blueprint.app_context_processor
def _audit_display() -> dict[str, object]:
    return {"audit_names": audit_names, "collapse_repeats": collapse_repeats}
