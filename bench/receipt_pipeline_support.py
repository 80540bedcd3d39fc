"""Helpers of ``bench/receipt_pipeline.py``: the shop's receipt photos, the shop itself,
a fake Graph API that notes every reply's text and time, and the receipt rows' timings.

The shop is made through the services (tenant, WhatsApp settings, receipt settings, an
earning rule) in a child process with the bench's settings, as the console would. Its
receipts are drawn by ``loyalchat.tools.receipt_synth`` with the shop's own name and
header in place of the generated shop's, dated today, each with its own number, items
and total, and photographed on a table (``photograph``, difficulty 0.5).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import random
import threading
import time
from decimal import Decimal
from typing import Any

from channels_support import GraphFake, _configure

from loyalchat.tools.receipt_synth import content, make_spec, photograph, render_receipt
from loyalchat.tools.receipt_synth.dataset import encode_jpeg
from loyalchat.tools.receipt_synth.spec import ReceiptSpec
from tests.fakes.graph_api import ACCESS_TOKEN

SLUG = "bench-receipts"
PHONE_NUMBER_ID = "200000000000011"
APP_SECRET = "bench-app-secret-receipts-0123456"
SHOP_NAME = "海港茶餐廳"
SHOP_ALIASES = (SHOP_NAME, "HARBOUR BENCH CAFE")
SHOP_HEADER = ("HARBOUR BENCH CAFE", "G/F, 8 Harbour Road, Wan Chai", "電話 Tel: 2345 6789")
PHOTO_SEED = 910_000  # the latency photos' seeds start here (never used to tune the reader)


def shop_receipt(index: int, today: dt.date, *, seed: int = PHOTO_SEED) -> ReceiptSpec:
    """Receipt ``index`` of the bench shop: a generated Hong Kong receipt (HK$) whose shop
    lines are replaced by the bench shop's, dated ``today``."""
    own = seed + index
    while True:
        spec = make_spec(own, "hk", today=today)
        if spec.currency == "HKD":
            break
        own += 1_000_003
    rng = random.Random(f"bench-date:{own}")
    return dataclasses.replace(
        spec,
        merchant=SHOP_NAME,
        merchant_aliases=SHOP_ALIASES,
        header_lines=SHOP_HEADER,
        date=today,
        date_text=content._date_text(rng, "hk", today),
    )


def photo_of(spec: ReceiptSpec, *, difficulty: float = 0.5) -> bytes:
    """A phone photo (JPEG) of the printed receipt, upright (a sideways photo is another
    benchmark's question: it costs three more OCR passes)."""
    rng = random.Random(f"bench-photo:{spec.seed}")
    for _ in range(20):
        image, rotation = photograph(render_receipt(spec, rng), rng, difficulty)
        if rotation == 0:
            return encode_jpeg(image, rng.randint(80, 90))
    raise RuntimeError(f"no upright photo of receipt {spec.seed}")


def shop_photos(count: int, today: dt.date, *, start: int = 0) -> list[tuple[ReceiptSpec, bytes]]:
    return [
        (spec, photo_of(spec)) for spec in (shop_receipt(start + i, today) for i in range(count))
    ]


def send_text(body: dict[str, Any]) -> str:
    """The words of a Graph API send body (text, interactive or an image's caption)."""
    kind = body.get("type")
    if kind == "text":
        return str(body.get("text", {}).get("body", ""))
    if kind == "interactive":
        return str(body.get("interactive", {}).get("body", {}).get("text", ""))
    if kind == "image":
        return str(body.get("image", {}).get("caption", ""))
    return ""


class ReplyFake(GraphFake):
    """The fake Graph API, noting each accepted send: (perf_counter, wall clock, to, text)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.replies: list[tuple[float, float, str, str]] = []
        self._replies_lock = threading.Lock()

    def _send(self, version: str, pnid: str, raw: bytes, token: str) -> tuple[int, dict, bytes]:
        arrived, wall = time.perf_counter(), time.time()
        status, headers, body = super()._send(version, pnid, raw, token)
        if status == 200:
            with self._lock:
                sent = self.sent[-1].body if self.sent else {}
            to = str(sent.get("to") or sent.get("recipient") or "")
            with self._replies_lock:
                self.replies.append((arrived, wall, to, send_text(sent)))
        return status, headers, body

    def replies_to(self, sender: str, after: float) -> list[tuple[float, float, str]]:
        """(perf_counter, wall clock, text) of the sends to ``sender`` after ``after``."""
        with self._replies_lock:
            return [
                (t, w, text) for t, w, to, text in self.replies if to.endswith(sender) and t > after
            ]


def setup_child(job: dict) -> dict:
    """A fresh database (PostgreSQL schema dropped, Redis db flushed) with the bench shop."""
    return asyncio.run(_setup(job))


async def _reset_postgres(url: str) -> None:
    import asyncpg

    server = await asyncpg.connect(url.rsplit("/", 1)[0] + "/postgres")
    try:
        name = url.rsplit("/", 1)[1]
        if not await server.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await server.execute(f'CREATE DATABASE "{name}"')
    finally:
        await server.close()
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()


async def _setup(job: dict) -> dict:
    env = job["env"]
    if env["LOYALCHAT_DATABASE_URL"].startswith("postgres"):
        await _reset_postgres(env["LOYALCHAT_DATABASE_URL"])
    if env.get("LOYALCHAT_REDIS_URL"):
        import redis

        redis.Redis.from_url(env["LOYALCHAT_REDIS_URL"]).flushdb()
    engine = _configure(env)
    from loyalchat import db
    from loyalchat.context import Actor, tenant_context
    from loyalchat.conversations.service import sync_channel_account
    from loyalchat.extensions.receipts import ReceiptProfile
    from loyalchat.pluginmanager import build_plugin_manager, use_plugin_manager
    from loyalchat.receipts.settings import ReceiptRules, save_receipt_settings
    from loyalchat.rules import service as rules
    from loyalchat.rules.schemas import RuleCreate
    from loyalchat.rules.tables import RuleKind
    from loyalchat.tenants import plugin_settings
    from loyalchat.tenants import service as tenants
    from loyalchat.tenants.tables import TenantStatus

    await db.migrate(engine)
    pm = build_plugin_manager()
    with use_plugin_manager(pm):
        shop = await tenants.create_tenant(SLUG, SHOP_NAME, status=TenantStatus.active)
        values = {
            "phone_number_id": PHONE_NUMBER_ID, "waba_id": "300000000000011",
            "display_phone": "+85230000011", "access_token": ACCESS_TOKEN,
            "app_secret": APP_SECRET, "verify_token": "bench-verify", "rate_per_second": "80",
        }  # fmt: skip
        with tenant_context(shop.id, Actor("system", label="bench")):
            await plugin_settings.update_settings("whatsapp", values, pm)
            await plugin_settings.enable_plugin("whatsapp", pm)
            await sync_channel_account("whatsapp", PHONE_NUMBER_ID)
            await rules.create_rule(
                RuleCreate(name="Bench base", kind=RuleKind.ratio, points_per_unit=Decimal(1))
            )
            # Every customer sends several receipts in a few minutes here: the velocity
            # check's limits are raised so it does not send the later rounds to review.
            await save_receipt_settings(
                ReceiptRules(
                    profile=ReceiptProfile(merchant_names=SHOP_ALIASES),
                    per_hour=100,
                    per_day=500,
                )
            )
    return {"id": shop.id, "slug": SLUG, "phone_number_id": PHONE_NUMBER_ID}


def receipt_rows_child(job: dict) -> list[dict]:
    """The bench shop's receipt rows (id, member, status, reasons, amounts, times)."""
    return asyncio.run(_receipt_rows(job))


async def _receipt_rows(job: dict) -> list[dict]:
    _configure(job["env"])
    from loyalchat.context import tenant_context
    from loyalchat.receipts.tables import Receipt
    from loyalchat.scoping import scoped_select

    with tenant_context(job["tenant"]):
        rows = await scoped_select(
            Receipt, Receipt.id, Receipt.member, Receipt.status, Receipt.reasons, Receipt.total,
            Receipt.amount, Receipt.points, Receipt.created_at, Receipt.updated_at,
            Receipt.decided_at, Receipt.attempts, Receipt.inbound_message,
            Receipt.conversation.sender.as_alias("sender"),
        ).output(load_json=True)  # fmt: skip
    for row in rows:
        for key in ("created_at", "updated_at", "decided_at"):
            row[key] = row[key].timestamp() if row[key] else None
        for key in ("total", "amount"):
            row[key] = None if row[key] is None else str(row[key])
    return rows


def ocr_alone_child(job: dict) -> dict:
    """The pipeline's CPU-heavy steps on ``job["photos"]``, one photo at a time, in a fresh
    process with the server's OCR settings (``env``): wall and CPU ms of each step per photo
    (the first photo, which loads the models, is read once before and not counted)."""
    import os

    os.environ.update(job["env"])
    from loyalchat.pluginmanager import build_plugin_manager
    from loyalchat.receipts.checks.screenshot import image_facts
    from loyalchat.receipts.fingerprint import fingerprint
    from loyalchat.receipts.reading.image import prepare
    from loyalchat.receipts.reading.reader import ReceiptReader

    reader = ReceiptReader("rapidocr", pm=build_plugin_manager())
    steps: dict[str, dict[str, list[float]]] = {}

    def timed(name: str, run):
        started, used = time.perf_counter(), time.process_time()
        out = run()
        step = steps.setdefault(name, {"wall_ms": [], "cpu_ms": []})
        step["wall_ms"].append((time.perf_counter() - started) * 1000)
        step["cpu_ms"].append((time.process_time() - used) * 1000)
        return out

    asyncio.run(reader.read(job["photos"][0]))  # loads the models
    for data in job["photos"]:
        prepared = timed("prepare", lambda data=data: prepare(data))
        timed("ocr + parse + qr", lambda p=prepared: asyncio.run(reader.read(p)))
        timed("fingerprint", lambda data=data: fingerprint(data))
        timed("image facts", lambda data=data: image_facts(data))
    return steps
