"""The lines ``scripts/run`` ends with (``loyalchat demo``'s next steps) tell a newcomer where
a second shop signs up, where the platform admin reviews it, and where the mails are; the
README says the same."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loyalchat.commands.demo import _next_steps
from loyalchat.settings import get_settings

README = Path(__file__).resolve().parents[1] / "README.md"
BASE = "http://127.0.0.1:8000"
CREDENTIALS = {
    "url": BASE,
    "tenant": "demo-cafe",
    "channels": {"webchat": {"url": f"{BASE}/c/demo-cafe"}},
}


@pytest.fixture
def in_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run as scripts/run does: from the checkout, with the default var/ folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOYALCHAT_VAR_DIR", "var")
    monkeypatch.delenv("LOYALCHAT_SMTP_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _printed() -> str:
    return "\n".join(_next_steps(CREDENTIALS, f"{BASE}/w/token"))


def test_the_closing_lines_say_where_a_shop_signs_up_and_is_reviewed(in_checkout: Path) -> None:
    printed = _printed()
    assert f"{BASE}/signup" in printed
    assert f"{BASE}/admin/applications" in printed
    assert f"{BASE}/admin/payments" in printed
    # Embedded mode: the folder the mails are in, as a path from where scripts/run runs.
    assert re.search(r"^\s+var/outbox/ ", printed, re.M), printed
    assert f"{BASE}/admin/outbox" in printed
    assert max(len(line) for line in printed.splitlines()) <= 100


def test_with_smtp_the_closing_lines_send_nobody_to_the_outbox(
    in_checkout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOYALCHAT_SMTP_URL", "smtp://mail.example.org")
    get_settings.cache_clear()
    printed = _printed()
    assert "var/outbox" not in printed and "LOYALCHAT_SMTP_URL" in printed
    assert f"{BASE}/signup" in printed


def test_the_readme_says_what_scripts_run_prints() -> None:
    text = README.read_text(encoding="utf-8")
    setup = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    ending = setup[setup.index("It ends with what to do next") :]
    for said in ("`/signup`", "`/admin/applications`", "`var/outbox/`", "`/admin/outbox`"):
        assert said in ending, said
    signs_up = text.split("## A shop signs up", 1)[1].split("\n## ", 1)[0]
    assert "/signup" in signs_up and "/admin/applications" in signs_up
    assert "var/outbox/" in signs_up
