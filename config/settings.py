"""Settings as one frozen dataclass, read from the environment and checked at start-up.

Every error names the variable at fault, so an operator reading a failed start knows
what to fix. Defaults are for a single-machine install: SQLite and the blob store under
``./instance``, both apps on loopback.

Each default is written once, as the default of its dataclass field; the parser reads
it from there (:func:`field_default`), and tests/config/test_readme_settings.py checks
the README's table against it. The Argon2id bounds are crypto's (crypto.argon2_cost).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crypto.argon2_cost import (
    DEFAULT_MEMORY_KIB,
    DEFAULT_PARALLELISM,
    DEFAULT_TIME_COST,
    MAX_MEMORY_KIB,
    MAX_PARALLELISM,
    MAX_TIME_COST,
    MIN_MEMORY_KIB_PER_LANE,
    MIN_PARALLELISM,
    MIN_TIME_COST,
    Argon2CostError,
    check_argon2_cost,
)

PREFIX = "LIEMCHINH_"
# The default size of every intake budget (IntakeBudgets), LIEMCHINH_INTAKE_RATE_LIMIT.
DEFAULT_INTAKE_RATE = "60 per minute"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class KdfSettings:
    """Argon2id cost. RFC 9106's second recommended option (64 MiB, t=3, p=4) by default,
    within crypto's bounds (crypto.argon2_cost).

    Lowered only by tests (through the environment), never in a deployment: the receipt
    derivation is what an attacker holding the database must repeat per guess.
    """

    memory_kib: int = DEFAULT_MEMORY_KIB
    time_cost: int = DEFAULT_TIME_COST
    parallelism: int = DEFAULT_PARALLELISM


@dataclass(frozen=True)
class Deadlines:
    """Default case deadlines, in days from the day a case arrives.

    - acknowledge within 7 days: EU Directive 2019/1937 art. 9(1)(b) (whistleblowing).
    - first decision within 30 days: Vietnam's Law on Denunciation 2018 (Luật Tố cáo),
      art. 29-30, which gives the competent body about 30 days to accept or reject
      a denunciation for handling.
    - feedback to the reporter within 3 months (90 days): EU Directive 2019/1937
      art. 9(1)(f).
    """

    acknowledge_days: int = 7
    decision_days: int = 30
    feedback_days: int = 90


@dataclass(frozen=True)
class SmtpSettings:
    """Where reviewer notifications are sent from (app.notifications). Present only when
    ``LIEMCHINH_SMTP_HOST`` is set: notifications are off by default.

    ``starttls`` is on by default; turning it off is meant for a relay on the same
    machine, so a password is refused without STARTTLS unless the host is loopback.
    Implicit TLS (port 465) is not supported: use the submission port with STARTTLS.
    """

    host: str
    port: int = 587
    username: str | None = None
    # Kept out of repr so that a logged or printed Settings never shows it.
    password: str | None = field(default=None, repr=False)
    starttls: bool = True
    sender: str = ""


@dataclass(frozen=True)
class IntakeBudgets:
    """Global request budgets of the intake (``app.web.ratelimit``), one per way in, so
    that a flood through one cannot close another. Each is a rate like "60 per minute"
    for the whole service, never per address.

    - ``javascript``: what a browser with JavaScript sends, each unit paid for with a
      proof of work: submission tickets, encrypted reports, opening a case, messages;
    - ``forms``: the no-JavaScript report and message forms;
    - ``receipts``: receipt checks of the no-JavaScript follow-up form.
    """

    javascript: str = DEFAULT_INTAKE_RATE
    forms: str = DEFAULT_INTAKE_RATE
    receipts: str = DEFAULT_INTAKE_RATE


@dataclass(frozen=True)
class ServerSettings:
    """Gunicorn's processes and threads per face (config/gunicorn.py), read before any
    app exists. Threads are bounded by the database pool: SQLAlchemy's default of 15
    connections per process (5 kept, 10 more on demand), which a busier thread would
    wait for and, after 30 s, fail on."""

    workers: int = 2
    threads: int = 4


MAX_WORKERS = 64
MAX_THREADS = 15


@dataclass(frozen=True)
class Settings:
    # Derived from the instance folder unless set (load_settings).
    database_url: str
    secrets_file: Path
    blob_path: Path
    # Memory-backed folder for state that must not outlive a reboot nor reach a backup
    # (the rate-limit counters); see _volatile_path.
    volatile_path: Path
    instance_path: Path = Path("./instance")
    intake_url: str = "http://127.0.0.1:8080"
    review_url: str = "http://127.0.0.1:8081"
    onion_url: str | None = None
    # Where "Thoát nhanh" (quick exit) on every intake page leads: an ordinary site that
    # draws no attention on a screen someone glances at.
    quick_exit_url: str = "https://www.google.com.vn"
    receipt_kdf: KdfSettings = field(default_factory=KdfSettings)
    password_kdf: KdfSettings = field(default_factory=KdfSettings)
    deadlines: Deadlines = field(default_factory=Deadlines)
    max_file_bytes: int = 50 * 1024 * 1024
    max_report_bytes: int = 200 * 1024 * 1024
    max_files: int = 10
    pow_difficulty: int = 20
    ratelimit_storage_uri: str | None = None
    intake_rate_limit: str = DEFAULT_INTAKE_RATE  # the default of every intake budget
    intake_budgets: IntakeBudgets = field(default_factory=IntakeBudgets)
    reporter_idle_minutes: int = 20
    reviewer_idle_minutes: int = 30
    reviewer_absolute_hours: int = 8
    retention_days: int = 365
    smtp: SmtpSettings | None = None  # None: no e-mail notifications (the default)
    auto_acknowledge: bool = False
    # The installation's local calendar (app.clock): the day a reporter's action is
    # dated to, and the day legal deadlines count from. An IANA zone name.
    timezone: str = "Asia/Ho_Chi_Minh"
    # The investigation agencies a case may be referred to (issue 14); None: the list
    # shipped in config/referral_agencies.toml (app.cases.referral_agencies).
    referral_agencies_file: Path | None = None

    def secure_cookies(self, face: str) -> bool:
        """``Secure`` cookies (with the ``__Host-`` prefix) when the face is served over https."""
        url = self.intake_url if face == "intake" else self.review_url
        return urlsplit(url).scheme == "https"


def field_default(settings_class: type[Any], name: str) -> Any:
    """The default of field ``name`` of one of the settings dataclasses above."""
    for item in fields(settings_class):
        if item.name == name:
            if item.default is not MISSING:
                return item.default
            if item.default_factory is not MISSING:
                return item.default_factory()
            break
    raise LookupError(f"{settings_class.__name__}.{name} has no default")


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(PREFIX + name, default).strip()
    if not value:
        raise ConfigError(f"{PREFIX}{name} is set but empty")
    return value


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = env.get(PREFIX + name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{PREFIX}{name} must be a whole number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{PREFIX}{name} must be between {minimum} and {maximum}, got {value}")
    return value


def _url(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    raw = env.get(PREFIX + name)
    value = (raw if raw is not None else default or "").strip().rstrip("/")
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{PREFIX}{name} must be an http:// or https:// URL, got {value!r}")
    return value


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(PREFIX + name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{PREFIX}{name} must be one of on/off, true/false, yes/no, 1/0, got {raw!r}")


def _smtp(env: Mapping[str, str]) -> SmtpSettings | None:
    host = env.get(PREFIX + "SMTP_HOST", "").strip()
    if not host:
        return None
    sender = env.get(PREFIX + "SMTP_FROM", "").strip()
    # A bare "name@domain" only: a display name or a second address here would end up
    # in every message's From header.
    if not sender or sender.count("@") != 1 or any(c in sender for c in " <>,;\r\n"):
        raise ConfigError(
            f"{PREFIX}SMTP_FROM must be an e-mail address (name@domain) when "
            f"{PREFIX}SMTP_HOST is set, got {sender!r}"
        )
    username = env.get(PREFIX + "SMTP_USERNAME", "").strip() or None
    password = env.get(PREFIX + "SMTP_PASSWORD", "") or None
    if (username is None) != (password is None):
        raise ConfigError(f"{PREFIX}SMTP_USERNAME and {PREFIX}SMTP_PASSWORD must be set together")
    starttls = _bool(env, "SMTP_STARTTLS", field_default(SmtpSettings, "starttls"))
    if password is not None and not starttls and host.lower() not in _LOOPBACK:
        # The password would cross the network in clear.
        raise ConfigError(
            f"{PREFIX}SMTP_STARTTLS may be off with {PREFIX}SMTP_PASSWORD only for a relay "
            f"on this machine (localhost), not {host!r}"
        )
    return SmtpSettings(
        host=host,
        port=_int(env, "SMTP_PORT", field_default(SmtpSettings, "port"), minimum=1, maximum=65535),
        username=username,
        password=password,
        starttls=starttls,
        sender=sender,
    )


def _database_url(env: Mapping[str, str], instance: Path) -> str:
    raw = env.get(PREFIX + "DATABASE_URL", "").strip()
    if not raw:
        return f"sqlite:///{instance / 'liemchinh.sqlite3'}"
    if raw.startswith("postgresql://") or raw.startswith("postgres://"):
        # psycopg 3 is the only PostgreSQL driver we ship; say so in the URL.
        raw = "postgresql+psycopg://" + raw.split("://", 1)[1]
    if not (raw.startswith("sqlite:///") or raw.startswith("postgresql+psycopg://")):
        raise ConfigError(
            f"{PREFIX}DATABASE_URL must start with sqlite:/// or postgresql+psycopg://, got {raw!r}"
        )
    return raw


def _timezone(env: Mapping[str, str]) -> str:
    name = _text(env, "TIMEZONE", field_default(Settings, "timezone"))
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{PREFIX}TIMEZONE must be an IANA time zone name such as Asia/Ho_Chi_Minh, "
            f"got {name!r}"
        ) from None
    return name


def _kdf(env: Mapping[str, str], name: str) -> KdfSettings:
    """An Argon2id cost within crypto's bounds: every value accepted here is one the
    key wrap, the password verifier and the receipt derivation run with."""
    default = KdfSettings()
    memory_kib = _int(
        env,
        f"{name}_MEMORY_KIB",
        default.memory_kib,
        minimum=MIN_MEMORY_KIB_PER_LANE,
        maximum=MAX_MEMORY_KIB,
    )
    time_cost = _int(
        env, f"{name}_TIME_COST", default.time_cost, minimum=MIN_TIME_COST, maximum=MAX_TIME_COST
    )
    parallelism = _int(
        env,
        f"{name}_PARALLELISM",
        default.parallelism,
        minimum=MIN_PARALLELISM,
        maximum=MAX_PARALLELISM,
    )
    try:
        check_argon2_cost(memory_kib, time_cost, parallelism)
    except Argon2CostError as exc:  # memory below 8 KiB per lane
        raise ConfigError(f"{PREFIX}{name}_{exc.parameter.upper()}: {exc}") from None
    return KdfSettings(memory_kib=memory_kib, time_cost=time_cost, parallelism=parallelism)


def _volatile_path(env: Mapping[str, str], instance: Path) -> Path:
    """``LIEMCHINH_VOLATILE_PATH``, or a folder of this installation (one per instance
    folder and user) in /dev/shm, a tmpfs on Linux: gone at reboot, never on a disk,
    outside the instance folder that backups copy. Without /dev/shm: the user's runtime
    folder (``XDG_RUNTIME_DIR``, also a tmpfs), else the temp folder; the app warns at
    start when the folder is not memory-backed (``app.web.volatile``)."""
    raw = env.get(PREFIX + "VOLATILE_PATH", "").strip()
    if raw:
        return Path(raw).expanduser().resolve()
    tag = hashlib.sha256(str(instance).encode()).hexdigest()[:16]
    name = f"liemchinh-{os.getuid()}-{tag}"
    runtime = env.get("XDG_RUNTIME_DIR", "").strip()
    # A predictable name in a shared folder: app.web.volatile refuses it unless it is a
    # real directory owned by this user, and closes it to mode 0700.
    for base in (Path("/dev/shm"), Path(runtime) if runtime else None):  # noqa: S108
        if base is not None and base.is_dir():
            return base / name
    return Path(tempfile.gettempdir()) / name


def _budgets(env: Mapping[str, str], default: str) -> IntakeBudgets:
    return IntakeBudgets(
        javascript=_text(env, "RATE_LIMIT_JAVASCRIPT", default),
        forms=_text(env, "RATE_LIMIT_FORMS", default),
        receipts=_text(env, "RATE_LIMIT_RECEIPTS", default),
    )


def _number(
    env: Mapping[str, str],
    name: str,
    owner: type[Any],
    field_name: str,
    *,
    minimum: int,
    maximum: int,
) -> int:
    """``LIEMCHINH_<name>``, defaulting to the field ``field_name`` of ``owner``."""
    default: int = field_default(owner, field_name)
    return _int(env, name, default, minimum=minimum, maximum=maximum)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting. Raises :class:`ConfigError` naming the variable."""
    env = os.environ if environ is None else environ
    instance_default = str(field_default(Settings, "instance_path"))
    instance = Path(_text(env, "INSTANCE_PATH", instance_default)).expanduser().resolve()
    intake_url = _url(env, "INTAKE_URL", field_default(Settings, "intake_url"))
    review_url = _url(env, "REVIEW_URL", field_default(Settings, "review_url"))
    assert intake_url is not None and review_url is not None
    secrets_raw = env.get(PREFIX + "SECRETS_FILE", "").strip()
    blobs_raw = env.get(PREFIX + "BLOB_PATH", "").strip()
    max_file = _number(
        env, "MAX_FILE_BYTES", Settings, "max_file_bytes", minimum=1024, maximum=2**40
    )
    max_report = _number(
        env, "MAX_REPORT_BYTES", Settings, "max_report_bytes", minimum=1024, maximum=2**42
    )
    if max_report < max_file:
        raise ConfigError(f"{PREFIX}MAX_REPORT_BYTES must be at least {PREFIX}MAX_FILE_BYTES")
    intake_rate_limit = _text(
        env, "INTAKE_RATE_LIMIT", field_default(Settings, "intake_rate_limit")
    )
    return Settings(
        instance_path=instance,
        database_url=_database_url(env, instance),
        intake_url=intake_url,
        review_url=review_url,
        onion_url=_url(env, "ONION_URL", field_default(Settings, "onion_url")),
        quick_exit_url=_url(env, "QUICK_EXIT_URL", field_default(Settings, "quick_exit_url"))
        or field_default(Settings, "quick_exit_url"),
        secrets_file=Path(secrets_raw).expanduser().resolve()
        if secrets_raw
        else instance / "secrets.json",
        blob_path=Path(blobs_raw).expanduser().resolve() if blobs_raw else instance / "blobs",
        receipt_kdf=_kdf(env, "RECEIPT_ARGON2"),
        password_kdf=_kdf(env, "PASSWORD_ARGON2"),
        deadlines=Deadlines(
            acknowledge_days=_number(
                env,
                "DEADLINE_ACKNOWLEDGE_DAYS",
                Deadlines,
                "acknowledge_days",
                minimum=1,
                maximum=365,
            ),
            decision_days=_number(
                env, "DEADLINE_DECISION_DAYS", Deadlines, "decision_days", minimum=1, maximum=730
            ),
            feedback_days=_number(
                env, "DEADLINE_FEEDBACK_DAYS", Deadlines, "feedback_days", minimum=1, maximum=730
            ),
        ),
        max_file_bytes=max_file,
        max_report_bytes=max_report,
        max_files=_number(env, "MAX_FILES", Settings, "max_files", minimum=0, maximum=100),
        pow_difficulty=_number(
            env, "POW_DIFFICULTY", Settings, "pow_difficulty", minimum=0, maximum=32
        ),
        ratelimit_storage_uri=env.get(PREFIX + "RATELIMIT_STORAGE_URI", "").strip() or None,
        intake_rate_limit=intake_rate_limit,
        intake_budgets=_budgets(env, intake_rate_limit),
        volatile_path=_volatile_path(env, instance),
        reporter_idle_minutes=_number(
            env, "REPORTER_IDLE_MINUTES", Settings, "reporter_idle_minutes", minimum=1, maximum=240
        ),
        reviewer_idle_minutes=_number(
            env, "REVIEWER_IDLE_MINUTES", Settings, "reviewer_idle_minutes", minimum=1, maximum=480
        ),
        reviewer_absolute_hours=_number(
            env,
            "REVIEWER_ABSOLUTE_HOURS",
            Settings,
            "reviewer_absolute_hours",
            minimum=1,
            maximum=24,
        ),
        retention_days=_number(
            env, "RETENTION_DAYS", Settings, "retention_days", minimum=1, maximum=36500
        ),
        smtp=_smtp(env),
        auto_acknowledge=_bool(
            env, "AUTO_ACKNOWLEDGE", field_default(Settings, "auto_acknowledge")
        ),
        timezone=_timezone(env),
        referral_agencies_file=_existing_file(env, "REFERRAL_AGENCIES_FILE"),
    )


def _existing_file(env: Mapping[str, str], name: str) -> Path | None:
    """``LIEMCHINH_<name>``: a file that must exist when set (its content is checked by
    the module that reads it, when the app starts)."""
    raw = env.get(PREFIX + name, "").strip()
    if not raw:
        return None
    path = Path(raw).expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"{PREFIX}{name}: no such file {path}")
    return path


def load_server_settings(environ: Mapping[str, str] | None = None) -> ServerSettings:
    """``LIEMCHINH_WORKERS`` and ``LIEMCHINH_THREADS``. Raises :class:`ConfigError`
    naming the variable."""
    env = os.environ if environ is None else environ
    return ServerSettings(
        workers=_number(env, "WORKERS", ServerSettings, "workers", minimum=1, maximum=MAX_WORKERS),
        threads=_number(env, "THREADS", ServerSettings, "threads", minimum=1, maximum=MAX_THREADS),
    )
