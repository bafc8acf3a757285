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
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from .age import (
    decrypt_stream_views,
    decrypt_to_file,
    encrypt_stream,
    encrypted_size_bound,
    preallocate,
    write_plaintext,
)
from .armor import ArmoredReader, looks_armored
from .errors import AgeError
from .keys import Identity, Recipient, parse_identity_file, parse_recipients_file


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


def _encrypt_to_file(src: BinaryIO, dst: BinaryIO, recipients: Sequence[Recipient]) -> None:
    """Encrypt into our fresh temporary file, preallocated when the input size is known.

    Only ``-o`` files are preallocated, never stdout: a preallocated stdout file
    of a killed process would have its full size with a zero tail.
    """
    preallocated = False
    with contextlib.suppress(OSError, ValueError):
        st = os.fstat(src.fileno())
        if stat.S_ISREG(st.st_mode):
            # The header (a few hundred bytes per recipient) is added as slack;
            # the file is truncated to what was written in any case.
            slack = 4096 + 256 * len(recipients)
            preallocated = preallocate(dst.fileno(), encrypted_size_bound(st.st_size) + slack)
    encrypt_stream(src, dst, recipients)
    if preallocated:
        dst.flush()
        os.ftruncate(dst.fileno(), dst.tell())


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
                _encrypt_to_file(src, dst, recipients)


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
            for chunk in decrypt_stream_views(src, identities):
                write_plaintext(out, chunk)  # before the next chunk overwrites the view
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
