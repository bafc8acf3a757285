import json
import stat
from pathlib import Path

import pytest

from config import MissingSecretsError, SecretsError, load_secrets
from config.secrets import add_backup_key, ensure_secrets


def test_first_init_creates_random_secrets_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    first, created = ensure_secrets(path)
    assert created
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again, created_again = ensure_secrets(path)
    assert not created_again and again == first
    assert len({first.intake_secret_key, first.review_secret_key, first.receipt_salt}) == 3
    other, _ = ensure_secrets(tmp_path / "other.json")
    assert other.receipt_salt != first.receipt_salt


def test_missing_secrets_refuse_with_instructions(tmp_path: Path) -> None:
    with pytest.raises(MissingSecretsError, match="init"):
        load_secrets(tmp_path / "nope.json")


def test_short_secret_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    path.write_text(
        json.dumps(
            {
                "intake_secret_key": "00" * 32,
                "review_secret_key": "ab" * 8,
                "receipt_salt": "11" * 32,
            }
        )
    )
    with pytest.raises(SecretsError, match="review_secret_key"):
        load_secrets(path)


def test_secrets_never_print(tmp_path: Path) -> None:
    secrets, _ = ensure_secrets(tmp_path / "s.json")
    assert secrets.receipt_salt.hex() not in repr(secrets)


def test_init_gives_an_old_secrets_file_a_backup_key(tmp_path: Path) -> None:
    path = tmp_path / "secrets.json"
    old = {n: ("ab" * 32) for n in ("intake_secret_key", "review_secret_key", "receipt_salt")}
    path.write_text(json.dumps(old, indent=2) + "\n")
    assert load_secrets(path).backup_auth_key is None
    assert add_backup_key(path)
    values = load_secrets(path)
    assert values.backup_auth_key is not None and len(values.backup_auth_key) == 32
    assert values.receipt_salt == bytes.fromhex("ab" * 32)  # nothing else changed
    assert not add_backup_key(path)


def test_new_secrets_have_a_backup_key(tmp_path: Path) -> None:
    created, _ = ensure_secrets(tmp_path / "s.json")
    assert created.backup_auth_key is not None and len(created.backup_auth_key) == 32
    assert load_secrets(tmp_path / "s.json") == created
