from pathlib import Path

import pytest

from config import ConfigError, load_settings


def test_defaults_are_a_single_machine_install(tmp_path: Path) -> None:
    settings = load_settings({"LIEMCHINH_INSTANCE_PATH": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'liemchinh.sqlite3'}"
    assert settings.blob_path == tmp_path / "blobs"
    assert settings.secrets_file == tmp_path / "secrets.json"
    assert settings.intake_url == "http://127.0.0.1:8080"
    assert settings.review_url == "http://127.0.0.1:8081"
    assert settings.onion_url is None
    assert settings.receipt_kdf.memory_kib == 65536 and settings.receipt_kdf.time_cost == 3


def test_settings_are_frozen(tmp_path: Path) -> None:
    settings = load_settings({"LIEMCHINH_INSTANCE_PATH": str(tmp_path)})
    with pytest.raises(AttributeError):
        settings.database_url = "sqlite:///elsewhere"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("LIEMCHINH_DATABASE_URL", "mysql://root@localhost/x"),
        ("LIEMCHINH_INTAKE_URL", "ftp://example.org"),
        ("LIEMCHINH_REVIEW_URL", "not a url"),
        ("LIEMCHINH_ONION_URL", "example.onion"),
        ("LIEMCHINH_MAX_FILES", "ten"),
        ("LIEMCHINH_POW_DIFFICULTY", "99"),
        ("LIEMCHINH_RECEIPT_ARGON2_MEMORY_KIB", "1"),
        ("LIEMCHINH_INSTANCE_PATH", "   "),
    ],
)
def test_bad_values_are_refused_naming_the_variable(
    tmp_path: Path, variable: str, value: str
) -> None:
    env = {"LIEMCHINH_INSTANCE_PATH": str(tmp_path), variable: value}
    with pytest.raises(ConfigError) as excinfo:
        load_settings(env)
    assert variable in str(excinfo.value)


def test_postgres_url_gets_the_psycopg_driver(tmp_path: Path) -> None:
    settings = load_settings(
        {"LIEMCHINH_INSTANCE_PATH": str(tmp_path), "LIEMCHINH_DATABASE_URL": "postgresql://u@h/db"}
    )
    assert settings.database_url == "postgresql+psycopg://u@h/db"


def test_report_limit_below_file_limit_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="LIEMCHINH_MAX_REPORT_BYTES"):
        load_settings(
            {
                "LIEMCHINH_INSTANCE_PATH": str(tmp_path),
                "LIEMCHINH_MAX_FILE_BYTES": "2000000",
                "LIEMCHINH_MAX_REPORT_BYTES": "1000000",
            }
        )


def test_https_urls_turn_on_secure_cookies(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "LIEMCHINH_INSTANCE_PATH": str(tmp_path),
            "LIEMCHINH_INTAKE_URL": "https://tocao.cantho.gov.vn/",
        }
    )
    assert settings.intake_url == "https://tocao.cantho.gov.vn"
    assert settings.secure_cookies("intake")
    assert not settings.secure_cookies("review")


SMTP_BASE = {"LIEMCHINH_SMTP_HOST": "mail.cantho.gov.vn", "LIEMCHINH_SMTP_FROM": "lc@cantho.gov.vn"}


def test_notifications_are_off_by_default(tmp_path: Path) -> None:
    settings = load_settings({"LIEMCHINH_INSTANCE_PATH": str(tmp_path)})
    assert settings.smtp is None
    assert settings.auto_acknowledge is False


def test_smtp_settings_with_defaults(tmp_path: Path) -> None:
    settings = load_settings({"LIEMCHINH_INSTANCE_PATH": str(tmp_path), **SMTP_BASE})
    assert settings.smtp is not None
    assert settings.smtp.host == "mail.cantho.gov.vn"
    assert settings.smtp.port == 587
    assert settings.smtp.starttls is True
    assert settings.smtp.username is None and settings.smtp.password is None
    assert settings.smtp.sender == "lc@cantho.gov.vn"


def test_smtp_password_is_not_in_repr(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "LIEMCHINH_INSTANCE_PATH": str(tmp_path),
            **SMTP_BASE,
            "LIEMCHINH_SMTP_PORT": "2525",
            "LIEMCHINH_SMTP_USERNAME": "lc",
            "LIEMCHINH_SMTP_PASSWORD": "s3cret-relay-pass",
            "LIEMCHINH_AUTO_ACKNOWLEDGE": "on",
        }
    )
    assert settings.smtp is not None and settings.smtp.password == "s3cret-relay-pass"
    assert settings.smtp.port == 2525
    assert settings.auto_acknowledge is True
    assert "s3cret-relay-pass" not in repr(settings)


def test_starttls_may_be_off_for_a_local_relay(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "LIEMCHINH_INSTANCE_PATH": str(tmp_path),
            "LIEMCHINH_SMTP_HOST": "localhost",
            "LIEMCHINH_SMTP_FROM": "lc@cantho.gov.vn",
            "LIEMCHINH_SMTP_STARTTLS": "off",
            "LIEMCHINH_SMTP_USERNAME": "lc",
            "LIEMCHINH_SMTP_PASSWORD": "pw",
        }
    )
    assert settings.smtp is not None and settings.smtp.starttls is False


@pytest.mark.parametrize(
    ("variable", "extra"),
    [
        ("LIEMCHINH_SMTP_FROM", {"LIEMCHINH_SMTP_FROM": ""}),
        ("LIEMCHINH_SMTP_FROM", {"LIEMCHINH_SMTP_FROM": "Liêm Chính <lc@cantho.gov.vn>"}),
        ("LIEMCHINH_SMTP_PORT", {"LIEMCHINH_SMTP_PORT": "70000"}),
        ("LIEMCHINH_SMTP_STARTTLS", {"LIEMCHINH_SMTP_STARTTLS": "maybe"}),
        ("LIEMCHINH_SMTP_PASSWORD", {"LIEMCHINH_SMTP_USERNAME": "lc"}),
        (
            "LIEMCHINH_SMTP_STARTTLS",
            {
                "LIEMCHINH_SMTP_STARTTLS": "off",
                "LIEMCHINH_SMTP_USERNAME": "lc",
                "LIEMCHINH_SMTP_PASSWORD": "pw",
            },
        ),
        ("LIEMCHINH_AUTO_ACKNOWLEDGE", {"LIEMCHINH_AUTO_ACKNOWLEDGE": "sometimes"}),
    ],
)
def test_bad_smtp_settings_name_the_variable(
    tmp_path: Path, variable: str, extra: dict[str, str]
) -> None:
    env = {"LIEMCHINH_INSTANCE_PATH": str(tmp_path), **SMTP_BASE, **extra}
    with pytest.raises(ConfigError, match=variable):
        load_settings(env)
