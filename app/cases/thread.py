"""The order of a case's thread, without any order stored in clear.

Message ids are random and a reporter's message keeps only its day (DESIGN.md promise
7), so neither the ids nor the times order a reporter's message against the reviewers'
messages of that day. The order comes from inside the encrypted messages: a reporter's
message carries ``after``, the id of the newest message the reporter had on screen when
writing (app.cases.payloads). Only the reporter and the case's readers can see it.

The rule, as one sort key per message:

- a reviewer's message sits at its exact time;
- a reporter's message sits right after the message it follows (after that message's
  own followers with a smaller id), but never before the start of its own day;
- a reporter's message that follows nothing known (the first of a thread, a pointer to
  a message of another case, a loop of pointers made up by a modified browser) sits at
  the start of its day;
- messages written before revision 0005 (ids below ``LEGACY_ID_LIMIT``: a sequence then)
  come first, in id order, which was their true order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from app import clock
from app.models import LEGACY_ID_LIMIT
from app.models.vocabulary import Side

_EARLIEST = datetime.min.replace(tzinfo=UTC)
_FOLLOWS = 1
_OPENS = 0

# (era, day, instant, path): era 0 for legacy messages; path orders followers.
_Key = tuple[int, date, datetime, tuple[tuple[int, int], ...]]


@dataclass(frozen=True)
class Placement:
    """What ordering needs of a message. ``after`` comes from the decrypted payload."""

    id: int
    side: Side
    created_at: datetime
    after: int | None = None


def message_day(side: Side, created_at: datetime) -> date:
    """The local day of a message: a reporter's ``created_at`` is a day label already."""
    if side is Side.REPORTER:
        return clock.stamp_day(created_at)
    return clock.local_day(created_at)


def thread_order(messages: Sequence[Placement]) -> list[int]:
    """The ids of ``messages`` in thread order (see the module docstring)."""
    by_id = {m.id: m for m in messages}
    keys: dict[int, _Key] = {}

    def own_key(m: Placement) -> _Key:
        if m.id < LEGACY_ID_LIMIT:
            return (0, date.min, _EARLIEST, ((_OPENS, m.id),))
        if m.side is Side.REVIEWER:
            return (1, message_day(m.side, m.created_at), m.created_at, ())
        return (1, message_day(m.side, m.created_at), _EARLIEST, ((_OPENS, m.id),))

    def key(m: Placement) -> _Key:
        # Iterative walk up the "after" pointers (a long back-and-forth must not hit
        # Python's recursion limit); a loop is cut where it closes.
        chain: list[Placement] = []
        seen: set[int] = set()
        current: Placement | None = m
        while current is not None and current.id not in keys and current.id not in seen:
            seen.add(current.id)
            chain.append(current)
            parent = by_id.get(current.after) if current.after is not None else None
            usable = (
                current.side is Side.REPORTER
                and current.id >= LEGACY_ID_LIMIT
                and parent is not None
                and parent.id != current.id
            )
            current = parent if usable else None
        for item in reversed(chain):
            parent = by_id.get(item.after) if item.after is not None else None
            base = own_key(item)
            if (
                parent is not None
                and parent.id in keys
                and item.side is Side.REPORTER
                and item.id >= LEGACY_ID_LIMIT
            ):
                era, day, instant, path = keys[parent.id]
                following: _Key = (era, day, instant, (*path, (_FOLLOWS, item.id)))
                start_of_own_day: _Key = (1, base[1], _EARLIEST, ())
                keys[item.id] = following if following >= start_of_own_day else base
            else:
                keys[item.id] = base
        return keys[m.id]

    return [m.id for m in sorted(messages, key=lambda m: (key(m), m.id))]
