"""The short note on the report form about what this service does not handle.

Complaints about a decision affecting oneself (khiếu nại, Luật Khiếu nại 2011) and
ordinary feedback on procedures follow other procedures; where to go depends on the
city, so the text is data: ``config/other_procedures.toml`` (one text per language).
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

OTHER_PROCEDURES_FILE = Path(__file__).resolve().parents[2] / "config" / "other_procedures.toml"


@lru_cache(maxsize=4)
def _load(path: Path) -> dict[str, str]:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    return {lang: str(section["text"]).strip() for lang, section in data.items()}


def other_procedures_text(locale: str, path: Path = OTHER_PROCEDURES_FILE) -> str:
    """The note in ``locale`` (Vietnamese when that language has none)."""
    texts = _load(path)
    return texts.get(locale) or texts.get("vi", "")
