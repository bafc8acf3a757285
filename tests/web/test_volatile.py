"""The volatile folder: memory-backed, private, per installation; refused when unsafe."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from app.web.volatile import file_system_type, is_memory_backed, prepare_volatile_folder
from config import ConfigError, load_settings


def _mounts(tmp_path: Path, lines: list[str], name: str = "mounts") -> Path:
    path = tmp_path / name
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


def test_file_system_type_takes_the_longest_mount_point(tmp_path: Path) -> None:
    mounts = _mounts(
        tmp_path,
        [
            "/dev/sda1 / ext4 rw 0 0",
            "tmpfs /dev/shm tmpfs rw 0 0",
            "tmpfs /run/user/1000 tmpfs rw 0 0",
            r"/dev/sdb1 /srv/th\040u\040muc xfs rw 0 0",
        ],
    )
    assert file_system_type(Path("/dev/shm/liemchinh-0-abc"), mounts) == "tmpfs"
    assert file_system_type(Path("/dev/shmx/a"), mounts) == "ext4"  # not inside /dev/shm
    assert file_system_type(Path("/srv/th u muc/x"), mounts) == "xfs"
    assert is_memory_backed(Path("/run/user/1000/x"), mounts)
    assert not is_memory_backed(Path("/var/tmp/x"), mounts)
    assert file_system_type(Path("/x"), tmp_path / "no-such-file") is None


def test_created_private(tmp_path: Path) -> None:
    path = prepare_volatile_folder(tmp_path / "v" / "liemchinh")
    assert path.is_dir() and (path.stat().st_mode & 0o777) == 0o700


def test_an_existing_folder_of_ours_is_closed(tmp_path: Path) -> None:
    path = tmp_path / "loose"
    path.mkdir()
    os.chmod(path, 0o755)  # noqa: S103 (the loose folder under test)
    prepare_volatile_folder(path)
    assert (path.stat().st_mode & 0o777) == 0o700


def test_a_symlink_or_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(ConfigError, match="LIEMCHINH_VOLATILE_PATH"):
        prepare_volatile_folder(link)
    plain = tmp_path / "file"
    plain.write_text("x")
    with pytest.raises(ConfigError, match="not a directory"):
        prepare_volatile_folder(plain)


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to make a folder of another user")
def test_a_folder_of_another_user_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "theirs"
    path.mkdir(mode=0o700)
    os.chown(path, 4242, 4242)
    with pytest.raises(ConfigError, match="another user"):
        prepare_volatile_folder(path)


def test_warns_when_not_memory_backed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    disk = _mounts(tmp_path, ["/dev/sda1 / ext4 rw 0 0"])
    ram = _mounts(tmp_path, [f"tmpfs {tmp_path} tmpfs rw 0 0"], "ram-mounts")
    with caplog.at_level(logging.WARNING, logger="app.web.volatile"):
        prepare_volatile_folder(tmp_path / "a", ram)
        assert caplog.records == []  # positive control below: the same call on a disk
        prepare_volatile_folder(tmp_path / "b", disk)
    [record] = caplog.records
    assert "not on a memory-backed file system" in record.getMessage()


def test_default_is_per_installation_in_dev_shm(tmp_path: Path) -> None:
    one = load_settings({"LIEMCHINH_INSTANCE_PATH": str(tmp_path / "một")})
    two = load_settings({"LIEMCHINH_INSTANCE_PATH": str(tmp_path / "hai")})
    assert one.volatile_path != two.volatile_path
    assert not one.volatile_path.is_relative_to(one.instance_path)  # never backed up
    if Path("/dev/shm").is_dir():
        assert one.volatile_path.parent == Path("/dev/shm")
        assert one.volatile_path.name.startswith(f"liemchinh-{os.getuid()}-")
    chosen = load_settings(
        {"LIEMCHINH_INSTANCE_PATH": str(tmp_path), "LIEMCHINH_VOLATILE_PATH": "/run/lc"}
    )
    assert chosen.volatile_path == Path("/run/lc")
