"""The investigation agencies a case may be referred to: data, not code
(config/referral_agencies.toml, or the file named by LIEMCHINH_REFERRAL_AGENCIES_FILE).

A referral stores the agency's code; its names come from this list when a page shows
it. A code no longer listed still shows (as the code itself), so editing the list never
breaks an old referral.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SHIPPED_AGENCIES = Path(__file__).resolve().parents[2] / "config" / "referral_agencies.toml"
CODE = re.compile(r"[a-z0-9_]{1,40}")
MAX_NAME = 200


class AgencyListError(ValueError):
    """The agency file cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Agency:
    code: str
    name_vi: str
    name_en: str
    active: bool = True

    def name(self, locale: str) -> str:
        return self.name_en if locale.startswith("en") else self.name_vi


def _agency(path: Path, code: str, raw: object) -> Agency:
    if not CODE.fullmatch(code):
        raise AgencyListError(f"{path}: [{code}] is not a code (a-z, 0-9, _; at most 40)")
    if not isinstance(raw, dict) or set(raw) - {"name_vi", "name_en", "active"}:
        raise AgencyListError(f"{path}: [{code}] takes name_vi, name_en and active only")
    names = [raw.get("name_vi"), raw.get("name_en")]
    if not all(isinstance(n, str) and n.strip() and len(n) <= MAX_NAME for n in names):
        raise AgencyListError(f"{path}: [{code}] needs name_vi and name_en (text)")
    active = raw.get("active", True)
    if not isinstance(active, bool):
        raise AgencyListError(f"{path}: [{code}].active must be true or false")
    return Agency(code, str(names[0]).strip(), str(names[1]).strip(), active)


@lru_cache(maxsize=4)
def load_agencies(path: Path = SHIPPED_AGENCIES) -> tuple[Agency, ...]:
    """Every agency of the file, in its order. Raises :class:`AgencyListError`."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise AgencyListError(f"cannot read {path}: {exc}") from None
    agencies = tuple(_agency(path, code, raw) for code, raw in data.items())
    if not any(agency.active for agency in agencies):
        raise AgencyListError(f"{path}: no active agency to refer cases to")
    return agencies


def find_agency(code: str, path: Path = SHIPPED_AGENCIES) -> Agency | None:
    return next((a for a in load_agencies(path) if a.code == code), None)


def agency_name(code: str, locale: str, path: Path = SHIPPED_AGENCIES) -> str:
    """The agency's name in ``locale``, or its code when the list no longer has it."""
    agency = find_agency(code, path)
    return agency.name(locale) if agency is not None else code
