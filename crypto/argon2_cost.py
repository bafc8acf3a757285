"""The Argon2id costs this project uses and accepts: defaults and bounds, in one place.

Every Argon2id run of the project takes its cost from here: the password key wrap
(:mod:`crypto.keywrap`, which checks the cost of every wrap it reads: a blob could come
from a tampered database row, and absurd memory or time would be a cheap DoS), the
password verifier and the receipt derivation. ``config.settings`` reads the installation's
``LIEMCHINH_*_ARGON2_*`` variables against the same bounds, so that a cost accepted at
start-up is one every login and every receipt can use.

Defaults: RFC 9106's second recommended option (64 MiB, 3 passes, 4 lanes).
"""

from __future__ import annotations

from typing import Literal

DEFAULT_MEMORY_KIB = 64 * 1024
DEFAULT_TIME_COST = 3
DEFAULT_PARALLELISM = 4

MIN_PARALLELISM = 1
MAX_PARALLELISM = 16
# Argon2 itself needs 8 KiB per lane (RFC 9106 §3.1: m >= 8p).
MIN_MEMORY_KIB_PER_LANE = 8
MAX_MEMORY_KIB = 1024 * 1024  # 1 GiB
MIN_TIME_COST = 1
MAX_TIME_COST = 16

Parameter = Literal["memory_kib", "time_cost", "parallelism"]


class Argon2CostError(ValueError):
    """An Argon2id cost outside the bounds; ``parameter`` names the one at fault."""

    def __init__(self, parameter: Parameter, message: str) -> None:
        super().__init__(message)
        self.parameter: Parameter = parameter


def check_argon2_cost(memory_kib: int, time_cost: int, parallelism: int) -> None:
    """Raise :class:`Argon2CostError` unless the cost is within the bounds."""
    if not MIN_PARALLELISM <= parallelism <= MAX_PARALLELISM:
        raise Argon2CostError(
            "parallelism",
            f"Argon2 parallelism must be between {MIN_PARALLELISM} and {MAX_PARALLELISM} "
            f"lanes, got {parallelism}",
        )
    least = MIN_MEMORY_KIB_PER_LANE * parallelism
    if not least <= memory_kib <= MAX_MEMORY_KIB:
        raise Argon2CostError(
            "memory_kib",
            f"Argon2 memory must be between {least} KiB ({MIN_MEMORY_KIB_PER_LANE} KiB for "
            f"each of {parallelism} lanes) and {MAX_MEMORY_KIB} KiB, got {memory_kib}",
        )
    if not MIN_TIME_COST <= time_cost <= MAX_TIME_COST:
        raise Argon2CostError(
            "time_cost",
            f"Argon2 time cost must be between {MIN_TIME_COST} and {MAX_TIME_COST} passes, "
            f"got {time_cost}",
        )
