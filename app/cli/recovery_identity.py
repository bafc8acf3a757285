"""The offline recovery identity brought to a trusted machine for one command (grants
fulfil, identity reseal): the same option, read once in memory, never stored."""

from __future__ import annotations

from typing import TextIO

import click

from crypto import Identity, parse_identity_file

recovery_identity_option = click.option(
    "--identity",
    "identity_file",
    required=True,
    type=click.File("r"),
    help="The offline recovery identity file (age format). Read, used in memory, never stored.",
)


def read_recovery_identities(identity_file: TextIO) -> list[Identity]:
    """The identities in the file, or a clear refusal naming what is wrong."""
    try:
        return parse_identity_file(identity_file.read())
    except ValueError as exc:
        raise click.ClickException(f"cannot read the identity file: {exc}") from None
