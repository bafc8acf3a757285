"""Files dated to the day: access and modification times set to the local day's label.

A file's mtime is the time of its last write, to the nanosecond, and copies (tar,
rsync, most backup tools) keep it. Where a reporter's action writes a file (a blob, the
SQLite database), the file and the directories it changed are given the day label
(:func:`app.clock.day_stamp`) afterwards instead (DESIGN.md promise 7). The inode's
change time (ctime) cannot be set by any program: it keeps the moment of the last
change, the relabelling included (docs/threat-model.md, "Time at rest").
"""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path

from app import clock


def day_label_times() -> tuple[float, float]:
    label = clock.day_stamp(clock.reporter_day()).timestamp()
    return (label, label)


def stamp_day(*targets: Path | int) -> None:
    """Set access and modification times of each path (or open file descriptor) to
    today's label. Best effort: a file gone meanwhile, or a refusal, is skipped."""
    times = day_label_times()
    for target in targets:
        with suppress(OSError):
            os.utime(target, times)
