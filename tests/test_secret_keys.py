"""Signing and encryption keys: written atomically, never empty, never too short."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from loyalchat.keyfiles import MIN_SECRET_LENGTH, KeyFileError
from loyalchat.settings import Settings


def test_generated_keys_are_kept_private_and_reused(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, secret_key="", encryption_key="")
    secret, fernet = settings.secret(), settings.fernet_keys()
    assert len(secret) >= MIN_SECRET_LENGTH
    Fernet(fernet[0].encode())
    for name in ("secret_key", "encryption_key"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    again = Settings(var_dir=tmp_path, secret_key="", encryption_key="")
    assert again.secret() == secret and again.fernet_keys() == fernet
    # No temporary files are left beside the keys.
    assert sorted(path.name for path in tmp_path.iterdir()) == ["encryption_key", "secret_key"]


@pytest.mark.parametrize("leftover", ["", "\n", "   "])
def test_an_empty_leftover_key_file_is_regenerated(tmp_path: Path, leftover: str) -> None:
    # What a crash between creating the file and writing it used to leave behind.
    (tmp_path / "secret_key").write_text(leftover)
    (tmp_path / "encryption_key").write_text(leftover)
    settings = Settings(var_dir=tmp_path, secret_key="", encryption_key="")
    secret = settings.secret()
    assert len(secret) >= MIN_SECRET_LENGTH
    assert (tmp_path / "secret_key").read_text().strip() == secret
    Fernet(settings.fernet_keys()[0].encode())
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_a_short_key_file_refuses_to_start(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("abc")
    with pytest.raises(KeyFileError, match=r"secret_key.*too short"):
        Settings(var_dir=tmp_path, secret_key="").secret()
    (tmp_path / "encryption_key").write_text("not-a-fernet-key")
    with pytest.raises(KeyFileError, match="encryption_key"):
        Settings(var_dir=tmp_path, encryption_key="").fernet_keys()


def test_a_short_configured_secret_refuses_to_start(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="LOYALCHAT_SECRET_KEY"):
        Settings(var_dir=tmp_path, secret_key="short")
    with pytest.raises(ValidationError, match="LOYALCHAT_ENCRYPTION_KEY"):
        Settings(var_dir=tmp_path, encryption_key="abc")
    with pytest.raises(ValidationError, match="LOYALCHAT_ENCRYPTION_KEY"):
        Settings(var_dir=tmp_path, encryption_key=f"{Fernet.generate_key().decode()},abc")
    ok = Settings(var_dir=tmp_path, secret_key="s" * MIN_SECRET_LENGTH)
    assert ok.secret() == "s" * MIN_SECRET_LENGTH


def test_the_app_refuses_to_start_with_a_bad_key_file(tmp_path: Path) -> None:
    from loyalchat.app import create_app

    (tmp_path / "encryption_key").write_text("x")
    settings = Settings(var_dir=tmp_path, encryption_key="")
    with pytest.raises(KeyFileError, match="encryption_key"):
        create_app(settings, run_workers=False)
