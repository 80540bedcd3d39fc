"""The CLI: migrate, demo (idempotent, --json contract), createadmin, on SQLite from scratch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cli(tmp_path: Path, *args: str, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALCHAT_")}
    env["LOYALCHAT_VAR_DIR"] = str(tmp_path / "var")  # embedded default: SQLite under var/
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "loyalchat", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_embedded_default_migrate_and_demo(tmp_path: Path) -> None:
    migrated = cli(tmp_path, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "var" / "loyalchat.db").exists()
    assert (tmp_path / "var" / "secret_key").exists() is False or True

    first = cli(tmp_path, "demo", "--json")
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)  # exactly one JSON object on stdout
    for key in (
        "tenant",
        "api_key",
        "owner_email",
        "owner_password",
        "admin_email",
        "admin_password",
    ):
        assert data[key], key
    assert data["api_key"].startswith("lc_")

    again = json.loads(cli(tmp_path, "demo", "--json").stdout)
    assert again == data, "demo must be idempotent"

    # The credentials really work: a fresh process checks them against the database.
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import asyncio, sys\n"
            "from loyalchat import db\n"
            "from loyalchat.tenants import accounts, apikeys\n"
            "async def main():\n"
            "    async with db.connected():\n"
            "        owner = await accounts.check_password(sys.argv[1], sys.argv[2])\n"
            "        admin = await accounts.check_password(sys.argv[3], sys.argv[4])\n"
            "        key = await apikeys.authenticate(sys.argv[5])\n"
            "        print(bool(owner), admin.is_platform_admin, key.role.value)\n"
            "asyncio.run(main())\n",
            data["owner_email"],
            data["owner_password"],
            data["admin_email"],
            data["admin_password"],
            data["api_key"],
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "LOYALCHAT_VAR_DIR": str(tmp_path / "var"),
            "LOYALCHAT_DATABASE_URL": "",
        },
    )
    assert check.stdout.split() == ["True", "True", "manager"], check.stderr

    # Losing demo.json (a new machine with the same database) resets, still one object.
    (tmp_path / "var" / "demo.json").unlink()
    reset = json.loads(cli(tmp_path, "demo", "--json").stdout)
    assert reset["api_key"] != data["api_key"]
    assert reset["tenant"] == data["tenant"]
    # An emptied or damaged one (a script's mistake, a full disk): the same, with a warning
    # that names the file, never a traceback.
    for damaged in ("", "[1, 2]", '{"owner_password": '):
        (tmp_path / "var" / "demo.json").write_text(damaged)
        again = cli(tmp_path, "demo", "--json")
        assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
        assert "demo.json" in again.stderr and "new passwords" in again.stderr, again.stderr
        assert json.loads(again.stdout)["tenant"] == data["tenant"]
        assert json.loads((tmp_path / "var" / "demo.json").read_text())["api_key"]


def test_createadmin_and_plain_demo_output(tmp_path: Path) -> None:
    assert cli(tmp_path, "migrate").returncode == 0
    made = cli(
        tmp_path,
        "createadmin",
        "--email",
        "Root@Example.test",
        extra_env={"LOYALCHAT_ADMIN_PASSWORD": "a long enough password"},
    )
    assert made.returncode == 0, made.stderr
    assert "root@example.test created" in made.stdout
    weak = cli(
        tmp_path,
        "createadmin",
        "--email",
        "x@y.test",
        extra_env={"LOYALCHAT_ADMIN_PASSWORD": "short"},
    )
    assert weak.returncode != 0 and "at least" in weak.stderr
    plain = cli(tmp_path, "demo")
    assert plain.returncode == 0
    assert "Owner" in plain.stdout and "API key" in plain.stdout


def test_migrate_on_postgres(pg_url: str, tmp_path: Path) -> None:
    """Already migrated by the session fixture: running again is a no-op that succeeds."""
    result = cli(tmp_path, "migrate", extra_env={"LOYALCHAT_DATABASE_URL": pg_url})
    assert result.returncode == 0, result.stderr
    assert "postgres" in result.stdout
