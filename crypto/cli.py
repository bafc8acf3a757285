"""``python -m crypto``: a small age-compatible command line for operators.

    python -m crypto keygen [-o FILE]
    python -m crypto encrypt (-r RECIPIENT)... [-R RECIPIENTS_FILE]... [-o OUT] [IN]
    python -m crypto decrypt (-i IDENTITY_FILE)... [-o OUT] [IN]

Files it writes are produced under a temporary name beside the target and
renamed only on success, so a failure never leaves a partial output file
(with stdout there is nothing to remove: the exit status says it failed).
Any failure prints one ``error: ...`` line to stderr and exits with status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from .age import decrypt_stream_views, decrypt_to_file, encrypt_stream
from .armor import ArmoredReader, looks_armored
from .errors import AgeError
from .keys import Identity, Recipient, parse_identity_file, parse_recipients_file


# ---- EXPERIMENT (temporary) -------------------------------------------------
import ctypes
import stat as _stat

_EXP = dict(
    kv.split("=", 1) for kv in os.environ.get("CRYPTO_EXP", "").split(",") if "=" in kv
)
_MIB = 1024 * 1024
_libc = ctypes.CDLL(None, use_errno=True)
_sfr = _libc.sync_file_range
_sfr.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
_sfr.restype = ctypes.c_int
_WAIT_BEFORE, _WRITE, _WAIT_AFTER = 1, 2, 4


def _sync_range(fd: int, start: int, length: int, flags: int) -> None:
    if _sfr(fd, start, length, flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def _is_regular(fd: int) -> bool:
    return _stat.S_ISREG(os.fstat(fd).st_mode)


class _ExpSink:
    """out=plain|sync|async|dontneed, every=MiB, falloc=0|1."""

    def __init__(self, fd: int, expected: int | None) -> None:
        self.fd = fd
        self.mode = _EXP.get("out", "")
        self.every = int(_EXP.get("every", "8")) * _MIB
        self.start = os.lseek(fd, 0, os.SEEK_CUR)
        self.pos = self.start
        self.done = self.start  # managed up to here
        self.prev: tuple[int, int] | None = None
        self.falloc = False
        if _EXP.get("falloc") == "1" and expected and _is_regular(fd):
            os.posix_fallocate(fd, self.start, expected)
            self.falloc = True

    def write(self, data: bytes | bytearray | memoryview) -> int:
        view = memoryview(data)
        n = len(view)
        off = 0
        while off < n:
            off += os.write(self.fd, view[off:])
        self.pos += n
        if self.mode and self.mode != "plain" and self.pos - self.done >= self.every:
            self._manage(self.done, self.pos - self.done)
            self.done = self.pos
        return n

    def _manage(self, start: int, length: int) -> None:
        fd = self.fd
        if self.mode == "sync":
            _sync_range(fd, start, length, _WAIT_BEFORE | _WRITE | _WAIT_AFTER)
            os.posix_fadvise(fd, start, length, os.POSIX_FADV_DONTNEED)
        elif self.mode == "async":
            _sync_range(fd, start, length, _WRITE)
            if self.prev is not None:
                ps, pl = self.prev
                _sync_range(fd, ps, pl, _WAIT_BEFORE | _WRITE | _WAIT_AFTER)
                os.posix_fadvise(fd, ps, pl, os.POSIX_FADV_DONTNEED)
            self.prev = (start, length)
        elif self.mode == "dontneed":
            os.posix_fadvise(fd, start, length, os.POSIX_FADV_DONTNEED)

    def flush(self) -> None:
        pass

    def finish(self) -> None:
        if self.falloc:
            os.ftruncate(self.fd, self.pos)


class _ExpReader:
    """in=seq|dontneed, inevery=MiB."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.fd = f.fileno()
        self.mode = _EXP.get("in", "")
        self.every = int(_EXP.get("inevery", "8")) * _MIB
        self.dropped = 0
        os.posix_fadvise(self.fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)

    def _after(self) -> None:
        if self.mode == "dontneed":
            pos = self.f.tell()
            if pos - self.dropped >= self.every:
                os.posix_fadvise(self.fd, self.dropped, pos - self.dropped, os.POSIX_FADV_DONTNEED)
                self.dropped = pos

    def readinto(self, b: memoryview) -> int:
        n = self.f.readinto(b)
        self._after()
        return n or 0

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        self._after()
        return data

    def peek(self, n: int = 0) -> bytes:
        return self.f.peek(n)  # type: ignore[attr-defined,no-any-return]
# ---- END EXPERIMENT ---------------------------------------------------------


class CliError(Exception):
    """A usage problem worth a one-line message."""


def _read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as f:
        return f.read()


@contextlib.contextmanager
def _input(path: str | None) -> Iterator[BinaryIO]:
    if path is None or path == "-":
        yield sys.stdin.buffer
    else:
        with open(path, "rb") as f:
            if _EXP.get("in") and _is_regular(f.fileno()):
                yield _ExpReader(f)  # type: ignore[misc]
            else:
                yield f


@contextlib.contextmanager
def _atomic_output(path: str) -> Iterator[BinaryIO]:
    """A private temp file beside ``path``, renamed over it only if the block succeeds."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _stdout_binary() -> BinaryIO:
    if sys.stdout.isatty():
        raise CliError("refusing to write binary output to a terminal; use -o FILE")
    return sys.stdout.buffer


def cmd_keygen(args: argparse.Namespace) -> None:
    identity = Identity.generate()
    created = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    created = created.replace("+00:00", "Z")
    text = f"# created: {created}\n# public key: {identity.recipient}\n{identity}\n"
    if args.output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        fd = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CliError(f"refusing to overwrite existing file {args.output!r}") from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(text)
    print(f"Public key: {identity.recipient}", file=sys.stderr)


def cmd_encrypt(args: argparse.Namespace) -> None:
    recipients: list[Recipient] = [Recipient.parse(r) for r in args.recipient]
    for path in args.recipients_file:
        recipients.extend(parse_recipients_file(_read_text(path)))
    if not recipients:
        raise CliError("no recipients: use -r RECIPIENT or -R FILE")
    with _input(args.input) as src:
        if args.output is None:
            out = _stdout_binary()
            encrypt_stream(src, out, recipients)
            out.flush()
        else:
            with _atomic_output(args.output) as dst:
                if _EXP:
                    size = None
                    with contextlib.suppress(Exception):
                        size = os.fstat(src.fileno()).st_size
                    expected = None if size is None else size + 16 * (size // 65536 + 1) + 4096
                    sink = _ExpSink(dst.fileno(), expected)
                    encrypt_stream(src, sink, recipients)  # type: ignore[arg-type]
                    sink.finish()
                else:
                    encrypt_stream(src, dst, recipients)


def cmd_decrypt(args: argparse.Namespace) -> None:
    identities: list[Identity] = []
    for path in args.identity:
        identities.extend(parse_identity_file(_read_text(path)))
    if not identities:
        raise CliError("no identities: use -i IDENTITY_FILE")
    with _input(args.input) as raw:
        src: BinaryIO = raw
        peek = getattr(raw, "peek", None)
        if peek is not None and looks_armored(peek(64)[:64]):
            src = ArmoredReader(raw)  # type: ignore[assignment]
        if args.output is None:
            out = _stdout_binary()
            if _EXP:
                size = None
                with contextlib.suppress(Exception):
                    size = os.fstat(raw.fileno()).st_size
                out.flush()
                sink = _ExpSink(out.fileno(), size)
                for chunk in decrypt_stream_views(src, identities):
                    sink.write(chunk)
                sink.finish()
                return
            for chunk in decrypt_stream_views(src, identities):
                out.write(chunk)  # written before the next chunk overwrites the view
            out.flush()
        else:
            decrypt_to_file(src, identities, args.output)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m crypto", description="age v1 encryption with X25519 keys."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    keygen = sub.add_parser("keygen", help="generate an identity (like age-keygen)")
    keygen.add_argument("-o", "--output", help="write the identity to FILE (mode 0600)")
    keygen.set_defaults(func=cmd_keygen)

    enc = sub.add_parser("encrypt", help="encrypt to recipients (like age -r)")
    enc.add_argument("-r", "--recipient", action="append", default=[], help="age1... recipient")
    enc.add_argument(
        "-R", "--recipients-file", action="append", default=[], help="file of recipients"
    )
    enc.add_argument("-o", "--output", help="output file (default: stdout)")
    enc.add_argument("input", nargs="?", help="input file (default: stdin)")
    enc.set_defaults(func=cmd_encrypt)

    dec = sub.add_parser("decrypt", help="decrypt with identities (like age -d -i)")
    dec.add_argument("-i", "--identity", action="append", default=[], help="identity file")
    dec.add_argument("-o", "--output", help="output file (default: stdout)")
    dec.add_argument("input", nargs="?", help="input file (default: stdin)")
    dec.set_defaults(func=cmd_decrypt)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (AgeError, CliError, OSError, ValueError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 1
    return 0
