"""The README's two set-up commands on a fresh machine: scripts/test names (or, as root,
installs) the system packages the tests need before anything else runs, .ci/run is that
command and nothing else, `loyalchat migrate` says what it did and `loyalchat demo` ends
with what to do next.

The dependency check runs for real, as a user who is not root, with a PATH that lacks the
tool in question; nothing is installed by these tests.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PATH_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


@pytest.fixture
def checkout() -> Iterator[Path]:
    """A copy of scripts/ that an unprivileged user can read (pytest's tmp_path is 0700)."""
    where = Path(tempfile.mkdtemp(prefix="loyalchat-setup-"))
    try:
        where.chmod(0o755)
        shutil.copytree(ROOT / "scripts", where / "scripts")
        yield where
    finally:
        shutil.rmtree(where, ignore_errors=True)


def path_without(where: Path, *missing: str) -> str:
    """A PATH holding every program of the usual PATH except ``missing``."""
    bin_dir = where / "bin"
    bin_dir.mkdir()
    for folder in PATH_DIRS:
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            target = bin_dir / name
            if name in missing or target.exists() or target.is_symlink():
                continue
            target.symlink_to(os.path.join(folder, name))
    bin_dir.chmod(0o755)
    return str(bin_dir)


def run_unprivileged(
    args: list[str], cwd: Path, path: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run ``args`` as a user who is not root: ourselves, or nobody when we are root."""
    env = {"PATH": path, "HOME": str(cwd), "LANG": "C.UTF-8", **(extra_env or {})}
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.fail("running the check as a non-root user needs setpriv (util-linux)")
        prefix = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    return subprocess.run(
        [*prefix, "/usr/bin/env", "-i", *(f"{k}={v}" for k, v in env.items()), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def install_command(stderr: str) -> list[str]:
    """The packages of the one `apt-get install -y ...` line the check prints."""
    lines = [line.strip() for line in stderr.splitlines() if "apt-get install -y" in line]
    assert len(lines) == 1, stderr
    return lines[0].split("apt-get install -y", 1)[1].split()


def test_scripts_test_without_tesseract_stops_before_the_suite(checkout: Path) -> None:
    result = run_unprivileged(
        ["/bin/bash", "scripts/test", "-x"],
        checkout,
        path_without(checkout, "tesseract"),
    )
    assert result.returncode != 0
    packages = install_command(result.stderr)
    assert "tesseract-ocr" in packages
    assert "scripts/test needs system packages that are not installed" in result.stderr
    # Stopped before the virtualenv, the assets, the services, ruff and pytest.
    assert not (checkout / ".venv").exists()
    assert "PostgreSQL" not in result.stderr and "passed" not in result.stdout
    assert result.stdout == ""


def test_local_servers_that_are_absent_are_named(checkout: Path) -> None:
    """Nothing answers at the test URLs and Debian's servers are not installed."""
    result = run_unprivileged(
        ["/bin/bash", "scripts/system_deps.sh", "test"],
        checkout,
        path_without(checkout, "pg_ctlcluster", "redis-server"),
        {
            "LOYALCHAT_TEST_DATABASE_URL": "postgresql://postgres@127.0.0.1:9/test",
            "LOYALCHAT_TEST_REDIS_URL": "redis://127.0.0.1:9/15",
        },
    )
    assert result.returncode != 0
    packages = install_command(result.stderr)
    assert {"postgresql", "postgresql-contrib", "redis-server"} <= set(packages)


def test_a_server_that_answers_needs_no_package(checkout: Path) -> None:
    """The servers run elsewhere (here: whatever answers at the test URLs): none is asked for."""
    pg = os.environ.get("LOYALCHAT_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    redis = os.environ.get("LOYALCHAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    result = run_unprivileged(
        ["/bin/bash", "scripts/system_deps.sh", "test"],
        checkout,
        path_without(checkout, "pg_ctlcluster", "redis-server", "tesseract"),
        {"LOYALCHAT_TEST_DATABASE_URL": pg, "LOYALCHAT_TEST_REDIS_URL": redis},
    )
    packages = install_command(result.stderr)
    assert "tesseract-ocr" in packages
    assert not {"postgresql", "redis-server"} & set(packages), packages


def test_scripts_run_without_npm_names_nodejs(checkout: Path) -> None:
    result = run_unprivileged(["/bin/bash", "scripts/run"], checkout, path_without(checkout, "npm"))
    assert result.returncode != 0
    assert "scripts/run needs system packages" in result.stderr
    assert {"nodejs", "npm"} <= set(install_command(result.stderr))
    assert not (checkout / ".venv").exists()


def test_ci_runs_the_readme_test_command_and_nothing_else() -> None:
    lines = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines[-1] == 'exec bash scripts/test "$@"', lines
    assert not any("apt-get" in line or "pytest" in line for line in lines), lines


def test_readme_has_two_setup_commands_and_names_what_is_installed() -> None:
    readme = (ROOT / "README.md").read_text()
    setup = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", setup, re.S)
    assert block is not None
    commands = [line.split()[0] for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["scripts/run", "scripts/test"]
    for package in (
        "chromium",
        "fonts-noto-cjk",
        "tesseract-ocr-chi-tra",
        "tesseract-ocr-chi-sim",
        "docker-compose",
        "postgresql",
        "redis-server",
        "nodejs",
    ):
        assert package in setup, package


def cli(var: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALCHAT_")}
    env["LOYALCHAT_VAR_DIR"] = str(var)
    return subprocess.run(
        [sys.executable, "-m", "loyalchat", *args],
        cwd=var.parent,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_migrate_says_what_it_did(tmp_path: Path) -> None:
    first = cli(tmp_path / "var", "migrate")
    assert first.returncode == 0, first.stderr
    assert "Created the database" in first.stdout
    assert "up to date" not in first.stdout
    applied = int(re.search(r"applied (\d+) migrations", first.stdout).group(1))
    assert applied > 1

    again = cli(tmp_path / "var", "migrate")
    assert again.returncode == 0, again.stderr
    assert "already up to date: no migration to apply" in again.stdout
    assert "Created" not in again.stdout


def test_demo_ends_with_what_to_do_next(tmp_path: Path) -> None:
    var = tmp_path / "var"
    assert cli(var, "migrate").returncode == 0
    result = cli(var, "demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    ending = out[out.index("Next, once the server below is up:") :]
    assert "http://127.0.0.1:8000/login" in ending and "as Owner" in ending
    assert "http://127.0.0.1:8000/admin" in ending and "403" in ending
    assert "wallet-link M000001 --tenant demo-cafe" in ending
    assert "var/demo.json" in ending.splitlines()[-1]

    # The printed wallet link opens member M000001's wallet.
    link = re.search(r"http://127\.0\.0\.1:8000(/w/\S+)", ending)
    assert link is not None, ending
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALCHAT_")}
    env["LOYALCHAT_VAR_DIR"] = str(var)
    opened = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from litestar.testing import TestClient\n"
            "from loyalchat.app import create_app\n"
            "with TestClient(app=create_app()) as client:\n"
            "    page = client.get(sys.argv[1])\n"
            "    print(page.status_code, 'M000001' in page.text)\n",
            link.group(1),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert opened.stdout.split() == ["200", "True"], opened.stderr[-2000:]
