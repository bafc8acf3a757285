import json
import stat
from pathlib import Path

import pytest

from config import MissingSecretsError, SecretsError, load_secrets
from config.secrets import ensure_secrets


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
