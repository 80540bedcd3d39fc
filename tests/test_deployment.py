"""docker-compose.yml validates and runs the production shape; .ci/run calls the test command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]


def test_compose_file_validates_with_every_service(tmp_path: Path) -> None:
    compose = shutil.which("docker-compose")
    assert compose, (
        "docker-compose is needed to validate docker-compose.yml (apt-get install docker-compose)"
    )
    env = {
        **os.environ,
        "LOYALCHAT_SECRET_KEY": "s" * 40,
        "LOYALCHAT_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    result = subprocess.run(
        [compose, "-f", str(ROOT / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    import yaml  # PyYAML comes with litestar's OpenAPI YAML support

    config = yaml.safe_load(result.stdout)
    services = config["services"]
    for name in ("postgres", "redis", "web", "worker", "scheduler"):
        assert name in services, name
        assert "healthcheck" in services[name], f"{name} has no health check"
    assert services["worker"]["command"] == ["loyalchat", "worker"]
    assert services["scheduler"]["command"] == ["loyalchat", "scheduler"]
    assert services["web"]["environment"]["LOYALCHAT_REDIS_URL"].startswith("redis://redis")
    assert {"pgdata", "redisdata", "media"} <= set(config["volumes"])

    # Without the secrets the stack refuses to start rather than generating throwaway keys.
    bare = {k: v for k, v in os.environ.items() if not k.startswith("LOYALCHAT_")}
    refused = subprocess.run(
        [compose, "-f", str(ROOT / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=bare,
        timeout=60,
    )
    assert refused.returncode != 0 and "LOYALCHAT_SECRET_KEY" in refused.stderr


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test" in readme and "scripts/run" in readme
    assert "scripts/test" in ci
    package = json.loads((ROOT / "frontend" / "package.json").read_text())
    lock = json.loads((ROOT / "frontend" / "package-lock.json").read_text())
    assert package["dependencies"], "third-party assets come from npm through package.json"
    assert lock["lockfileVersion"] >= 2
