"""``loyalchat demo`` as a newcomer meets it: the credentials first, no log lines before
them, and a dashboard with a month of activity (purchases and a redemption on several of
the last 30 days), seeded through the services; a second run adds nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import structlog

from loyalchat.commands.demo import _warnings_only
from tests.test_cli import cli

FIGURES = """
import asyncio, json
from zoneinfo import ZoneInfo
from loyalchat import db
from loyalchat.commands.demo import DEMO_MEMBER, DEMO_SLUG
from loyalchat.context import Actor, tenant_context
from loyalchat.conversations.tables import Conversation, InboundMessage, OutboundMessage
from loyalchat.ledger import figures
from loyalchat.ledger.tables import LedgerEntry
from loyalchat.members import service as members
from loyalchat.members import stats
from loyalchat.receipts.tables import Receipt
from loyalchat.tenants.service import get_tenant_by_slug

async def main():
    async with db.connected():
        tenant = await get_tenant_by_slug(DEMO_SLUG)
        tz = ZoneInfo(tenant.timezone)
        with tenant_context(tenant.id, Actor("system", label="test")):
            totals = await figures.daily_totals(30, tz)
            joined = await stats.joined_per_day(30, tz)
            member = await members.get_member(DEMO_MEMBER)
            kinds = [row["kind"] for row in await LedgerEntry.select(LedgerEntry.kind).where(
                LedgerEntry.member == member.id)]
            entries = await LedgerEntry.count().where(LedgerEntry.tenant == tenant.id)
            receipts = sorted(r["status"] for r in await Receipt.select(Receipt.status).where(
                Receipt.tenant == tenant.id))
            chats = [await table.count().where(table.tenant == tenant.id)
                     for table in (Conversation, InboundMessage, OutboundMessage)]
        print(json.dumps({
            "earned_days": [str(t.day) for t in totals if t.earned],
            "redeemed_days": [str(t.day) for t in totals if t.redeemed],
            "joined_days": [str(j.day) for j in joined if j.count],
            "kinds": kinds, "entries": entries, "points": member.points,
            "receipts": receipts, "chats": chats,
        }))

asyncio.run(main())
"""


def _figures(tmp_path: Path) -> dict:
    """What the dashboard would count, read by a fresh process from the demo's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALCHAT_")}
    env["LOYALCHAT_VAR_DIR"] = str(tmp_path / "var")
    done = subprocess.run(
        [sys.executable, "-c", FIGURES],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_demo_prints_the_credentials_first_and_seeds_a_month(tmp_path: Path) -> None:
    assert cli(tmp_path, "migrate").returncode == 0
    first = cli(tmp_path, "demo")
    assert first.returncode == 0, first.stderr
    # Logs go to stderr, interleaved with stdout on a terminal: none at all here.
    assert first.stderr == "", first.stderr
    assert first.stdout.startswith("Demo tenant  Demo Café"), first.stdout[:200]
    assert "domain_event" not in first.stdout and "media_saved" not in first.stdout

    seeded = _figures(tmp_path)
    assert len(seeded["earned_days"]) >= 5, seeded  # not all on one day
    assert len(seeded["joined_days"]) >= 3, seeded
    assert seeded["redeemed_days"], seeded
    # M000001 keeps purchases and a redemption (its history, the wallet link's member).
    assert seeded["kinds"].count("earn") == 3 and seeded["kinds"].count("redeem") == 1
    assert seeded["points"] > 0
    # The month in the chats (demo_history): receipts in each outcome, conversations.
    assert {"credited", "rejected", "needs_review"} <= set(seeded["receipts"]), seeded
    assert all(count > 0 for count in seeded["chats"]), seeded

    again = cli(tmp_path, "demo")
    assert again.returncode == 0 and again.stderr == "", again.stderr
    assert _figures(tmp_path) == seeded  # idempotent: nothing doubled


def test_a_debug_level_keeps_the_demos_log_lines(tmp_path: Path) -> None:
    assert cli(tmp_path, "migrate").returncode == 0
    verbose = cli(tmp_path, "demo", "--json", extra_env={"LOYALCHAT_LOG_LEVEL": "DEBUG"})
    assert verbose.returncode == 0
    assert "domain_event" in verbose.stderr
    assert json.loads(verbose.stdout)["tenant"] == "demo-cafe"


def test_warnings_and_errors_still_show_while_the_demo_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = structlog.get_logger("demo-test")
    saved = structlog.get_config()
    try:
        with _warnings_only():
            log.info("routine_line")
            log.warning("real_warning")
            log.error("real_error")
    finally:
        structlog.configure(**saved)  # not bound to this test's captured stderr
    err = capsys.readouterr().err
    assert "real_warning" in err and "real_error" in err
    assert "routine_line" not in err
