"""``loyalchat demo`` connects the demo shop's three channels, and ``demo --json`` says
how to reach them (``channels``): a webhook signed with what it printed is accepted at
the URL it printed, on a fresh process of the app, and a second run changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.test_cli import cli

ROOT = Path(__file__).resolve().parents[1]
BASE = "https://loyal.example.com"

# Run in a fresh process on the demo's own SQLite database: signed webhooks to the printed
# URLs (paths), the web chat page, and what was stored.
PROBE = """
import json, sys
from urllib.parse import urlsplit
from litestar.testing import TestClient
from loyalchat.app import create_app
from tests.fakes import whatsapp_webhooks as wa
from tests.fakes import wechat_webhooks as wc

channels = json.loads(sys.argv[1])
path = lambda url: urlsplit(url).path
w, c = channels["whatsapp"], channels["wechat"]
out = {}
with TestClient(app=create_app()) as client:
    hook = path(w["webhook_url"])
    shake = client.get(hook, params=wa.handshake_query(w["verify_token"], "4242"))
    out["handshake"] = [shake.status_code, shake.text]
    payload = wa.webhook(wa.text_message("積分"), phone_number_id=w["phone_number_id"])
    body, headers = wa.signed(payload, w["app_secret"])
    out["whatsapp"] = client.post(hook, content=body, headers=headers).status_code
    _, forged = wa.signed(payload, "not-the-secret")
    out["forged"] = client.post(hook, content=body, headers=forged).status_code
    push = wc.text_webhook(c, "o6_demo_openid", "points")
    sent = client.post(push.url(path(c["webhook_url"])), content=push.body, headers=push.headers)
    out["wechat"] = [sent.status_code, sent.text]
    out["webchat"] = client.get(path(channels["webchat"]["url"])).status_code
print(json.dumps(out))
"""


def _env(var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALCHAT_")}
    env |= {"LOYALCHAT_VAR_DIR": str(var), "LOYALCHAT_PUBLIC_BASE_URL": BASE}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return env


def _demo_json(var: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "loyalchat", "demo", "--json"],
        cwd=var.parent,
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(var),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_demo_json_names_three_connected_channels_that_answer(tmp_path: Path) -> None:
    var = tmp_path / "var"
    assert cli(tmp_path, "migrate").returncode == 0
    channels = _demo_json(var)["channels"]

    assert set(channels) == {"whatsapp", "wechat", "webchat"}
    assert set(channels["whatsapp"]) == {
        "webhook_url",
        "app_secret",
        "phone_number_id",
        "verify_token",
    }
    assert set(channels["wechat"]) == {
        "webhook_url",
        "token",
        "appid",
        "encoding_aes_key",
        "mode",
        "original_id",
    }
    assert channels["whatsapp"]["webhook_url"] == f"{BASE}/hooks/whatsapp/demo-cafe"
    assert channels["wechat"]["webhook_url"] == f"{BASE}/hooks/wechat/demo-cafe"
    assert channels["webchat"] == {"url": f"{BASE}/t/demo-cafe/chat"}
    assert channels["wechat"]["mode"] in ("plain", "safe")
    assert len(channels["wechat"]["encoding_aes_key"]) == 43
    assert channels["wechat"]["appid"].startswith("wx")
    assert channels["wechat"]["original_id"].startswith("gh_")

    # A second run keeps every secret: webhooks signed with the first run's still verify.
    assert _demo_json(var)["channels"] == channels

    probe = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(channels)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(var),
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    assert seen["handshake"] == [200, "4242"]
    assert seen["whatsapp"] == 200
    assert seen["forged"] == 401
    assert seen["wechat"] == [200, "success"]
    assert seen["webchat"] == 200
