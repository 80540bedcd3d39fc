"""The demo shop takes receipts: its drawn receipts are read by the real OCR engine, its
month of history has receipts in every outcome and members on every channel, and, as
outside scripts rely on, a WhatsApp photo of a HK$123.40 Demo Café receipt sent to the
demo number (with only what ``loyalchat demo --json`` printed) is credited in embedded
mode with no other set-up."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from loyalchat.commands.demo_receipts import DEMO_PROFILE
from loyalchat.pluginmanager import build_plugin_manager
from loyalchat.receipts.reading.reader import ReceiptReader
from loyalchat.tools.demo_receipt import draw_demo_receipt
from tests.test_cli import cli
from tests.test_demo_channels import _demo_json, _env

TODAY = date(2026, 12, 1)


@pytest.fixture(scope="module")
def reader() -> ReceiptReader:
    return ReceiptReader("rapidocr", profile=DEMO_PROFILE, pm=build_plugin_manager())


async def test_a_drawn_demo_receipt_reads_as_the_demo_shop(reader: ReceiptReader) -> None:
    reading = await reader.read(draw_demo_receipt("123.40", TODAY))
    fields = reading.fields
    assert fields.merchant_name is not None and fields.merchant_name.value == "DEMO CAFE"
    assert fields.total is not None and fields.total.value == Decimal("123.40")
    assert fields.total.confidence >= 0.8  # credited without asking the member
    assert fields.date is not None and fields.date.value == TODAY
    texts = ["".join(line.text.split()) for line in reading.ocr.lines]
    assert any("示範咖啡" in text for text in texts), texts


async def test_other_shops_and_unpaid_bills_read_as_such(reader: ReceiptReader) -> None:
    other = (await reader.read(draw_demo_receipt("88.50", TODAY, shop="other"))).fields
    assert other.merchant_name is not None and "DEMO" not in other.merchant_name.value.upper()
    assert other.total is not None and other.total.value == Decimal("88.50")
    unpaid = (await reader.read(draw_demo_receipt("96.50", TODAY, paid=False))).fields
    assert unpaid.total is not None and unpaid.total.value == Decimal("96.50")
    assert unpaid.total.confidence < 0.8  # the pipeline asks the member to confirm


def test_demo_receipt_command_writes_a_photo(tmp_path: Path) -> None:
    out = tmp_path / "receipt.jpg"
    done = cli(tmp_path, "demo", "receipt", "--total", "123.40", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:3] == b"\xff\xd8\xff"  # a JPEG
    assert "HK$123.40" in done.stdout
    bad = cli(tmp_path, "demo", "receipt", "--total", "lots", "--out", str(out))
    assert bad.returncode == 2 and "--total" in bad.stderr


# Run in a fresh process on the demo's SQLite database, embedded queue (no Redis): a fake
# Graph API serves the photo and takes the replies; the webhook is signed with the secret
# the demo printed. Prints the receipt the photo became and the replies sent.
PROBE = """
import json, sqlite3, sys, time
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo
from tests.fakes.graph_api import FakeGraphApi
from tests.fakes import whatsapp_webhooks as wa

class AnyToken:  # the demo's access token is its own secret; the fake takes any
    def __contains__(self, token):
        return bool(token)

channels, var = json.loads(sys.argv[1]), sys.argv[2]
fake = FakeGraphApi(tokens=AnyToken()).start()
import os
os.environ["LOYALCHAT_WHATSAPP_API_BASE"] = fake.base_url
from litestar.testing import TestClient
from loyalchat.app import create_app
from loyalchat.tools.demo_receipt import draw_demo_receipt

w = channels["whatsapp"]
today = datetime.now(ZoneInfo("Asia/Hong_Kong")).date()
media_id = fake.add_media(draw_demo_receipt("123.40", today), "image/jpeg")
customer = "85298765432"
payload = wa.webhook(
    wa.image_message(media_id, wa_id=customer, name="Outside Script"),
    phone_number_id=w["phone_number_id"],
)
body, headers = wa.signed(payload, w["app_secret"])
db = sqlite3.connect(f"{var}/loyalchat.db", timeout=30)
query = (
    "select r.status, r.total, r.points, r.reasons from receipt r join conversation c "
    "on r.conversation = c.id where c.sender = ?"
)
with TestClient(app=create_app()) as client:
    posted = client.post(urlsplit(w["webhook_url"]).path, content=body, headers=headers)
    row, deadline = None, time.monotonic() + 240
    while time.monotonic() < deadline:
        row = db.execute(query, (customer,)).fetchone()
        sent = [m.body for m in fake.sent if m.body.get("to", "").lstrip("+") == customer]
        if row and row[0] not in ("received", "reading", "checking") and len(sent) >= 2:
            break
        time.sleep(0.5)
fake.stop()
mine = [m.body for m in fake.sent if m.body.get("to", "").lstrip("+") == customer]
texts = [body.get("text", {}).get("body", "") for body in mine]
print(json.dumps({"posted": posted.status_code, "receipt": row, "replies": texts}))
"""

FIGURES = """
import asyncio, json
from loyalchat import db
from loyalchat.commands.demo import DEMO_SLUG
from loyalchat.context import Actor, tenant_context
from loyalchat.conversations.tables import Conversation
from loyalchat.ledger.tables import LedgerEntry
from loyalchat.receipts.tables import Receipt
from loyalchat.tenants.service import get_tenant_by_slug

async def main():
    async with db.connected():
        tenant = await get_tenant_by_slug(DEMO_SLUG)
        with tenant_context(tenant.id, Actor("system", label="test")):
            receipts = await Receipt.select(Receipt.status, Receipt.reasons, Receipt.channel).where(
                Receipt.tenant == tenant.id).output(load_json=True)
            chats = await Conversation.select(Conversation.channel, Conversation.member).where(
                Conversation.tenant == tenant.id)
            kinds = await LedgerEntry.select(LedgerEntry.kind, LedgerEntry.idempotency_key).where(
                LedgerEntry.tenant == tenant.id)
        print(json.dumps({"receipts": receipts, "chats": chats, "ledger": kinds}))

asyncio.run(main())
"""


def _run(code: str, tmp_path: Path, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env=_env(tmp_path / "var"),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_demo_month_and_a_whatsapp_receipt_with_no_other_set_up(tmp_path: Path) -> None:
    assert cli(tmp_path, "migrate").returncode == 0
    channels = _demo_json(tmp_path / "var")["channels"]

    month = _run(FIGURES, tmp_path)
    statuses = [r["status"] for r in month["receipts"]]
    for status in ("credited", "rejected", "needs_review", "awaiting_member"):
        assert status in statuses, statuses
    reasons = {reason for r in month["receipts"] for reason in r["reasons"]}
    assert {"other_shop", "duplicate", "too_old", "amount_over_review_limit"} <= reasons
    members_by_channel = {c["channel"] for c in month["chats"] if c["member"]}
    assert members_by_channel == {"whatsapp", "wechat", "webchat"}
    assert {r["channel"] for r in month["receipts"]} == {"whatsapp", "wechat", "webchat"}
    credits = [e for e in month["ledger"] if e["idempotency_key"].startswith("receipt:")]
    assert len(credits) == statuses.count("credited")  # one ledger entry per credit
    assert sum(e["kind"] == "redeem" for e in month["ledger"]) >= 3  # the history's and M000001's

    seen = _run(PROBE, tmp_path, json.dumps(channels), str(tmp_path / "var"))
    assert seen["posted"] == 200
    status, total, points, reasons = seen["receipt"]
    assert (status, reasons) == ("credited", "[]"), seen
    assert Decimal(str(total)) == Decimal("123.40") and points > 0
    assert any(str(points) in text for text in seen["replies"]), seen["replies"]
