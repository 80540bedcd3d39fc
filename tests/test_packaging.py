"""The layout works as DESIGN.md section 2 promises, from the repo root and from a wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def run(*args: str, cwd: Path = ROOT, env: dict | None = None, timeout: int = 240):
    return subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env or os.environ.copy()
    )


def test_platform_folder_never_shadows_stdlib() -> None:
    assert not (ROOT / "platform" / "__init__.py").exists()
    result = run(PY, "-c", "import platform; print(platform.system())")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Linux"


def test_python_dash_m_loyalchat_from_repo_root() -> None:
    result = run(PY, "-m", "loyalchat", "--help")
    assert result.returncode == 0, result.stderr
    for command in ("serve", "worker", "scheduler", "migrate", "createadmin", "plugins", "demo"):
        assert command in result.stdout


def test_python_dash_m_pytest_from_repo_root_collects() -> None:
    result = run(PY, "-m", "pytest", "--collect-only", "-q", "tests/test_packaging.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "test_python_dash_m_pytest_from_repo_root_collects" in result.stdout


def test_wheel_has_every_subpackage_and_data_file(tmp_path: Path) -> None:
    result = run(PY, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    wheel = next(tmp_path.glob("loyalchat-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = [
        "loyalchat/app.py",
        "loyalchat/hookspecs/__init__.py",
        "loyalchat/tenants/tables.py",
        "loyalchat/billing/__init__.py",
        "loyalchat/onboarding/__init__.py",
        "loyalchat/plugins/eventlog/__init__.py",
        "loyalchat/frontend/__init__.py",
        "loyalchat/frontend/package.json",
        "loyalchat/frontend/package-lock.json",
    ]
    for name in expected:
        assert name in names, f"{name} missing from the wheel"
    assert "loyalchat/__init__.py" not in names
    assert any(n.startswith("loyalchat/tenants/piccolo_migrations/tenants_") for n in names)
    assert any(n.startswith("loyalchat/inbox/piccolo_migrations/inbox_") for n in names)
    assert any(n.startswith("loyalchat/frontend/templates/") and n.endswith(".html") for n in names)
    assert any(n.startswith("loyalchat/locale/zh_Hant/") for n in names)
    assert any(n.startswith("loyalchat/frontend/static/") for n in names)
    assert not any("node_modules" in n or "__pycache__" in n for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[loyalchat]" in text and "eventlog" in text and "loyalchat = loyalchat.cli:main" in text

    # Install the wheel alone into a fresh venv that borrows our dependencies (not our
    # editable finder), then import from outside the repo: the wheel must stand on its own.
    venv = tmp_path / "venv"
    assert run(PY, "-m", "venv", str(venv)).returncode == 0
    vpy = venv / "bin" / "python"
    installed = run(str(vpy), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel))
    assert installed.returncode == 0, installed.stderr
    site = run(str(vpy), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    deps = run(PY, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    (Path(site.stdout.strip()) / "deps.pth").write_text(deps.stdout.strip() + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALCHAT_")}
    env["LOYALCHAT_VAR_DIR"] = str(tmp_path / "var")
    probe = run(
        str(vpy),
        "-c",
        "import loyalchat.app, loyalchat.tenants.tables, loyalchat.frontend.web as w;"
        "print(loyalchat.app.__file__); app = loyalchat.app.create_app(); print('app ok')",
        cwd=tmp_path,
        env=env,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    assert str(venv) in probe.stdout and "app ok" in probe.stdout
