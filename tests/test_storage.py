"""The blob store leaves only the day in file times: after writing, renaming, reading
and deleting, the file and its folders carry the day label, never the time."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from app import clock
from app.storage import BlobStore


def label() -> float:
    return clock.day_stamp(clock.reporter_day()).timestamp()


def times(path: Path) -> tuple[float, float]:
    stat = path.stat()
    return stat.st_atime, stat.st_mtime


def test_every_write_rename_and_delete_leaves_the_day_label(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    pending = store.create()
    pending.write(b"age-encryption.org/v1 ciphertext " * 1000)
    assert times(pending.tmp_path) == (label(), label())
    assert times(store.root / "tmp") == (label(), label())
    key = pending.finalize()
    final = store.root / key
    for path in (final, final.parent, store.root / "tmp", store.root):
        assert times(path)[1] == label(), path
    assert times(final)[0] == label()

    # Reading does not set the access time (O_NOATIME, where the system allows it).
    os.utime(final, (label(), label()))
    assert store.read(key).startswith(b"age-encryption")
    assert times(final)[0] == label()

    other = store.create()
    other.write(b"x")
    other.discard()
    assert times(store.root / "tmp")[1] == label()
    store.delete(key)
    assert not final.exists()
    assert times(final.parent)[1] == label()


def test_the_label_is_a_midnight_of_the_local_day(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    pending = store.create()
    pending.write(b"x")
    key = pending.finalize()
    mtime = datetime.fromtimestamp((store.root / key).stat().st_mtime, UTC)
    assert (mtime.hour, mtime.minute, mtime.second, mtime.microsecond) == (0, 0, 0, 0)
    assert mtime.date() == clock.reporter_day()
