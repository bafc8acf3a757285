"""The volatile folder: state that must not outlive a reboot nor reach a backup.

Some state exists only to control floods, and a record of it would date reporters'
actions: a rate-limit counter holds the exact end of its window, so a copy of it says
"someone submitted around 10:03". It is kept in a folder on a memory-backed file system
(``LIEMCHINH_VOLATILE_PATH``, by default under /dev/shm; see ``config.settings``):
shared by every process of the machine, never written to a disk, outside the instance
folder that ``backup`` copies, and gone at reboot.

The folder is created mode 0700 and must be a real directory owned by this user: in a
world-writable place like /dev/shm, another local user could otherwise create it first
(or a symlink in its place) and read or reset the counters.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from pathlib import Path

from config import ConfigError

log = logging.getLogger(__name__)

MEMORY_FILE_SYSTEMS = frozenset({"tmpfs", "ramfs"})
_MOUNTS = Path("/proc/self/mounts")


def _unescape_mount_path(field: str) -> str:
    # /proc/self/mounts escapes space, tab, newline and backslash as octal (\040 ...).
    return (
        field.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
    )


def file_system_type(path: Path, mounts: Path = _MOUNTS) -> str | None:
    """The type of the file system ``path`` lives on (longest mount point that holds
    it), or None where the mount table cannot be read (not Linux)."""
    try:
        lines = mounts.read_text("utf-8", "replace").splitlines()
    except OSError:
        return None
    target = str(path.resolve())
    best, best_type = "", None
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = _unescape_mount_path(fields[1])
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, best_type = point, fields[2]
    return best_type


def is_memory_backed(path: Path, mounts: Path = _MOUNTS) -> bool:
    return file_system_type(path, mounts) in MEMORY_FILE_SYSTEMS


def prepare_volatile_folder(path: Path, mounts: Path = _MOUNTS) -> Path:
    """Create ``path`` (mode 0700) or check the existing one; warn when it is not on a
    memory-backed file system. Raises ConfigError naming LIEMCHINH_VOLATILE_PATH."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            path.mkdir(mode=0o700)
        info = os.lstat(path)
    except OSError as exc:
        raise ConfigError(f"LIEMCHINH_VOLATILE_PATH {path} cannot be created: {exc}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise ConfigError(f"LIEMCHINH_VOLATILE_PATH {path} exists and is not a directory")
    if info.st_uid != os.getuid():
        raise ConfigError(
            f"LIEMCHINH_VOLATILE_PATH {path} belongs to another user (uid {info.st_uid}); "
            "remove it or choose another folder"
        )
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.chmod(path, 0o700)  # ours: close it rather than refuse to start
    if not is_memory_backed(path, mounts):
        log.warning(
            "LIEMCHINH_VOLATILE_PATH %s is not on a memory-backed file system (tmpfs): "
            "rate-limit counters, which hold exact times, may reach the disk. Point it at "
            "a tmpfs folder (/dev/shm, /run/user/UID) or use Redis without persistence.",
            path,
        )
    return path
