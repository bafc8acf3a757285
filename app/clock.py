"""The installation's calendar: the local day, and the day as a label in time columns.

DESIGN.md promise 7: nothing written during a reporter's action may date it below the
calendar day. The day that counts is the installation's LOCAL day
(``LIEMCHINH_TIMEZONE``, Asia/Ho_Chi_Minh by default), not the UTC one: legal deadlines
count from the local day a report arrives, and a UTC date would split a Vietnamese day
at 07:00 - which would itself tell whether a report came before or after 7 in the
morning.

Two kinds of value come from here:

- :func:`reporter_day` / :func:`local_day`: a :class:`~datetime.date`, for ``Date``
  columns (``cases.created_day``, ``blobs.created_day``, held audit events);
- :func:`day_stamp`: the same day as an aware datetime at 00:00 UTC, for the places that
  need a datetime (an audit event's time, a reporter message's ``created_at``, a file's
  mtime). It is a **label** of the local calendar day, not an instant: 2026-03-05 00:00
  UTC stands for "5 March in Cần Thơ", whose real span is 4 March 17:00 to 5 March 17:00
  UTC. Compare labels with labels (or their days), never with ``utcnow()``.

The zone is set once at start-up from the settings (:func:`use_zone`, called by
``app.create_*_app``); pure Python, no Flask, so the domain and the CLI share it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Ho_Chi_Minh"

_zone = ZoneInfo(DEFAULT_ZONE)


class UnknownZoneError(ValueError):
    """Not an IANA time zone name this machine (or the tzdata package) knows."""


def parse_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (e.g. ``Asia/Ho_Chi_Minh``), or :class:`UnknownZoneError`."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UnknownZoneError(f"unknown time zone {name!r}") from None


def use_zone(name: str) -> None:
    """Make ``name`` the installation's zone (start-up; the settings validated it)."""
    global _zone
    _zone = parse_zone(name)


def zone() -> ZoneInfo:
    return _zone


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_day(moment: datetime) -> date:
    """The installation's calendar day at the instant ``moment`` (aware)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to local_day")
    return moment.astimezone(_zone).date()


def reporter_day(now: datetime | None = None) -> date:
    """The local calendar day of a reporter's action happening now (or at ``now``):
    the only time a reporter's action may leave behind."""
    return local_day(now or utcnow())


def today() -> date:
    """The local calendar day now (deadlines, overdue checks, purge days)."""
    return local_day(utcnow())


def day_stamp(day: date) -> datetime:
    """``day`` as an aware 00:00 UTC datetime: a label of the local day, not an instant."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def is_day_stamp(value: datetime) -> bool:
    """True when ``value`` carries no time of day (a :func:`day_stamp`)."""
    utc = value.astimezone(UTC) if value.tzinfo else value
    return (utc.hour, utc.minute, utc.second, utc.microsecond) == (0, 0, 0, 0)


def stamp_day(stamp: datetime) -> date:
    """The day a :func:`day_stamp` labels."""
    return stamp.astimezone(UTC).date() if stamp.tzinfo else stamp.date()


def start_of_day(day: date) -> datetime:
    """The real instant (aware, UTC) at which the local ``day`` begins."""
    local = datetime(day.year, day.month, day.day, tzinfo=_zone)
    return local.astimezone(UTC)


def days_later(day: date, days: int) -> date:
    return day + timedelta(days=days)
