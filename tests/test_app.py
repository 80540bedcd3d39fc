"""The application shell: health, readiness, errors as JSON or pages, OpenAPI without CDNs."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from loyalchat.settings import get_settings


@pytest.fixture
def app() -> Litestar:
    from loyalchat.app import create_app

    return create_app(run_workers=False)


async def test_health_and_ready(app: Litestar) -> None:
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/health")).json() == {"status": "ok"}
        ready = await client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}


async def test_ready_reports_unreachable_services(redis_url: str) -> None:
    from loyalchat.app import create_app

    settings = get_settings().model_copy(
        update={
            "database_url": "postgresql://postgres@127.0.0.1:1/nowhere",
            "redis_url": "redis://127.0.0.1:1/0",
        }
    )
    app = create_app(settings, run_workers=False)
    async with AsyncTestClient(app=app) as client:
        ready = await client.get("/ready")
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["database"].startswith("error") and checks["broker"].startswith("error")


async def test_api_errors_are_json_and_pages_are_friendly(app: Litestar) -> None:
    async with AsyncTestClient(app=app) as client:
        api = await client.get("/api/v1/nothing-here")
        page = await client.get("/console/nothing-here", headers={"accept": "text/html"})
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/json")
    assert api.json()["error"]["status"] == 404
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "<html" in page.text.lower() and "Traceback" not in page.text


async def test_openapi_is_served_without_cdn_pages(app: Litestar) -> None:
    async with AsyncTestClient(app=app) as client:
        spec = await client.get("/schema/openapi.json")
        yaml = await client.get("/schema/openapi.yaml")
        swagger = await client.get("/schema/swagger")
    assert spec.status_code == 200 and "/api/v1/me" in spec.json()["paths"]
    assert yaml.status_code == 200 and "openapi:" in yaml.text
    assert swagger.status_code == 404
    assert "cdn" not in spec.text.lower()


async def test_settings_defaults_need_no_configuration(tmp_path, monkeypatch) -> None:
    from loyalchat.settings import Settings

    for name in list(__import__("os").environ):
        if name.startswith("LOYALCHAT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.database_kind == "sqlite"
    assert settings.resolved_database_url.endswith("var/loyalchat.db")
    assert settings.embedded_queue
    assert settings.media_dir == settings.var_dir / "media"
    secret = settings.secret()
    assert len(secret) > 40 and settings.secret() == secret  # generated once, then kept
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o777 == 0o600
    assert Settings().fernet_keys() == settings.fernet_keys()


def test_settings_from_env_and_dotenv(tmp_path, monkeypatch) -> None:
    from loyalchat.settings import Settings

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LOYALCHAT_REDIS_URL", raising=False)
    (tmp_path / ".env").write_text("LOYALCHAT_REDIS_URL=redis://10.9.9.9:6379/2\n")
    monkeypatch.setenv("LOYALCHAT_BLOCKED_PLUGINS", "tesseract, paddleocr")
    monkeypatch.setenv("LOYALCHAT_DATABASE_URL", "postgresql://u@db:5432/x")
    settings = Settings()
    assert settings.redis_url == "redis://10.9.9.9:6379/2"
    assert settings.blocked_plugins == ["tesseract", "paddleocr"]
    assert settings.database_kind == "postgres" and not settings.embedded_queue


def test_readme_documents_every_setting() -> None:
    from pathlib import Path

    from loyalchat.settings import Settings

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for name in Settings.model_fields:
        assert f"LOYALCHAT_{name.upper()}" in readme, f"README lacks LOYALCHAT_{name.upper()}"


def test_access_log_leaves_wallet_tokens_out() -> None:
    from loyalchat.log import loggable_path

    assert loggable_path("/w/eyJ0.secret-token/history") == "/w/…/history"
    assert loggable_path("/w/eyJ0.secret-token") == "/w/…"
    assert loggable_path("/console/members/w/3") == "/console/members/w/3"
