"""How an operator command refuses: ``error: …`` on stderr and exit status 1.

Cron mails the output and a systemd unit shows as failed, so a refusal is never silent.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import click


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)
