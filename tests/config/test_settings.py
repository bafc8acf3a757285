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
    assert not settings.is_sqlite


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
