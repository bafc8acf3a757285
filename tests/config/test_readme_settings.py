"""The README's configuration table lists every variable the code reads, and the
defaults the code has (they are written once, on the settings dataclasses)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from config.settings import (
    Deadlines,
    KdfSettings,
    ServerSettings,
    Settings,
    SmtpSettings,
    field_default,
    load_server_settings,
    load_settings,
)

ROOT = Path(__file__).resolve().parents[2]
VARIABLE = re.compile(r"`(LIEMCHINH_[A-Z0-9_]+)`")
MIB = 1024 * 1024

# Where each variable's default is written. The others' defaults are derived (from the
# instance folder or another variable) and described in words.
FIELDS: dict[str, tuple[type[Any], str]] = {
    "LIEMCHINH_INSTANCE_PATH": (Settings, "instance_path"),
    "LIEMCHINH_INTAKE_URL": (Settings, "intake_url"),
    "LIEMCHINH_REVIEW_URL": (Settings, "review_url"),
    "LIEMCHINH_ONION_URL": (Settings, "onion_url"),
    "LIEMCHINH_QUICK_EXIT_URL": (Settings, "quick_exit_url"),
    **{
        f"LIEMCHINH_{kind}_ARGON2_{name.upper()}": (KdfSettings, name)
        for kind in ("RECEIPT", "PASSWORD")
        for name in ("memory_kib", "time_cost", "parallelism")
    },
    "LIEMCHINH_MAX_FILE_BYTES": (Settings, "max_file_bytes"),
    "LIEMCHINH_MAX_REPORT_BYTES": (Settings, "max_report_bytes"),
    "LIEMCHINH_MAX_FILES": (Settings, "max_files"),
    "LIEMCHINH_POW_DIFFICULTY": (Settings, "pow_difficulty"),
    "LIEMCHINH_DEADLINE_ACKNOWLEDGE_DAYS": (Deadlines, "acknowledge_days"),
    "LIEMCHINH_DEADLINE_DECISION_DAYS": (Deadlines, "decision_days"),
    "LIEMCHINH_DEADLINE_FEEDBACK_DAYS": (Deadlines, "feedback_days"),
    "LIEMCHINH_RETENTION_DAYS": (Settings, "retention_days"),
    "LIEMCHINH_REPORTER_IDLE_MINUTES": (Settings, "reporter_idle_minutes"),
    "LIEMCHINH_REVIEWER_IDLE_MINUTES": (Settings, "reviewer_idle_minutes"),
    "LIEMCHINH_REVIEWER_ABSOLUTE_HOURS": (Settings, "reviewer_absolute_hours"),
    "LIEMCHINH_INTAKE_RATE_LIMIT": (Settings, "intake_rate_limit"),
    "LIEMCHINH_SMTP_HOST": (Settings, "smtp"),
    "LIEMCHINH_SMTP_FROM": (SmtpSettings, "sender"),
    "LIEMCHINH_SMTP_PORT": (SmtpSettings, "port"),
    "LIEMCHINH_SMTP_STARTTLS": (SmtpSettings, "starttls"),
    "LIEMCHINH_SMTP_USERNAME": (SmtpSettings, "username"),
    "LIEMCHINH_SMTP_PASSWORD": (SmtpSettings, "password"),
    "LIEMCHINH_AUTO_ACKNOWLEDGE": (Settings, "auto_acknowledge"),
    "LIEMCHINH_TIMEZONE": (Settings, "timezone"),
    "LIEMCHINH_WORKERS": (ServerSettings, "workers"),
    "LIEMCHINH_THREADS": (ServerSettings, "threads"),
}
DERIVED = {
    "LIEMCHINH_DATABASE_URL",
    "LIEMCHINH_SECRETS_FILE",
    "LIEMCHINH_BLOB_PATH",
    "LIEMCHINH_VOLATILE_PATH",
    "LIEMCHINH_RATELIMIT_STORAGE_URI",
    "LIEMCHINH_RATE_LIMIT_JAVASCRIPT",
    "LIEMCHINH_RATE_LIMIT_FORMS",
    "LIEMCHINH_RATE_LIMIT_RECEIPTS",
    "LIEMCHINH_REFERRAL_AGENCIES_FILE",
}
# Literal LIEMCHINH_ strings in the code that are not environment variables.
NOT_VARIABLES = {"LIEMCHINH_SETTINGS", "LIEMCHINH_SECRETS"}


class _RecordingEnv(dict[str, str]):
    """An environment that remembers every name looked up in it."""

    def __init__(self, values: dict[str, str]) -> None:
        super().__init__(values)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.read.add(str(key))
        return super().__contains__(key)


def variables_read() -> set[str]:
    # SMTP on, so that the variables read only then are read too.
    env = _RecordingEnv(
        {
            "LIEMCHINH_INSTANCE_PATH": "/srv/liemchinh",
            "LIEMCHINH_SMTP_HOST": "thu.cantho.gov.vn",
            "LIEMCHINH_SMTP_FROM": "liemchinh@cantho.gov.vn",
        }
    )
    load_settings(env)
    load_server_settings(env)
    return {name for name in env.read if name.startswith("LIEMCHINH_")}


def readme_table() -> list[tuple[list[str], str]]:
    """Each row of the configuration table: its variables and its default cell."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if line.startswith("| `LIEMCHINH_"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows.append((VARIABLE.findall(cells[0]), cells[1]))
    return rows


def rendered(variable: str, value: Any) -> str:
    """A default as the README writes it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, Path):
        return f"./{value}"
    if isinstance(value, int) and variable.endswith("_BYTES") and value % MIB == 0:
        return f"{value // MIB} MiB"
    return str(value)


def test_the_table_lists_every_variable_the_code_reads() -> None:
    read = variables_read()
    documented = [name for names, _default in readme_table() for name in names]
    assert len(documented) == len(set(documented)), "a variable is listed twice"
    assert read - set(documented) == set(), "read by the code, missing from the README"
    assert set(documented) - read == set(), "in the README, never read by the code"


def test_every_variable_has_its_default_placed() -> None:
    assert set(FIELDS) | DERIVED == variables_read()
    assert set(FIELDS) & DERIVED == set()


def test_the_table_gives_the_code_s_defaults() -> None:
    checked = 0
    for names, cell in readme_table():
        defaults = cell.split(", ") if len(names) > 1 else [cell]
        assert len(defaults) == len(names), f"one default per variable: {names}"
        for name, documented in zip(names, defaults, strict=True):
            documented = documented.replace("`", "")
            if name in DERIVED:
                assert documented, f"{name} has no default described"
                continue
            expected = rendered(name, field_default(*FIELDS[name]))
            assert documented == expected or documented.startswith(expected + " ("), name
            checked += 1
    assert checked == len(FIELDS)


def test_the_code_reads_the_environment_only_through_config_settings() -> None:
    """A LIEMCHINH_ name written anywhere in the code is one the settings read, so the
    recording above sees every variable."""
    read = variables_read()
    literal = re.compile(r"[\"'](LIEMCHINH_[A-Z0-9_]+)[\"']")
    sources = [ROOT / "wsgi.py", *(ROOT / "app").rglob("*.py"), *(ROOT / "config").rglob("*.py")]
    named = {m for path in sources for m in literal.findall(path.read_text(encoding="utf-8"))}
    assert named >= NOT_VARIABLES  # the scan sees names written in the code
    assert named - read - NOT_VARIABLES == set()
