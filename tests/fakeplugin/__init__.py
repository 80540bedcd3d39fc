"""A small but complete plugin for tests: one object of every family, plus settings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from loyalchat.extensions.base import InboundRequest
from loyalchat.extensions.channels import (
    Capability,
    EventKind,
    InboundEvent,
    Media,
    OutboundMessage,
    ParsedRequest,
    SendResult,
)
from loyalchat.extensions.ocr import OcrLine
from loyalchat.extensions.payments import PaymentRequest, PaymentStart, PaymentStatus
from loyalchat.extensions.receipts import (
    CheckResult,
    Found,
    ReceiptFacts,
    ReceiptFields,
    ReceiptProfile,
    ShopProfile,
)
from loyalchat.extensions.rewards import Grant, GrantDisplay, Issued
from loyalchat.extensions.settings_fields import SettingField
from loyalchat.hookimpl import hookimpl


class FakeChannel:
    label = "Fake chat"
    config_fields = (
        SettingField("account_id", "Account id", required=True),
        SettingField("access_token", "Access token", required=True, secret=True),
    )
    capabilities = frozenset({Capability.text, Capability.receive_images})

    def __init__(self, kind: str = "fakechat") -> None:
        self.kind = kind
        self.sent: list[OutboundMessage] = []

    async def verify(self, request: InboundRequest, config: Mapping[str, Any]) -> bool:
        return request.header("x-token") == config.get("access_token")

    async def parse(self, request: InboundRequest, config: Mapping[str, Any]) -> ParsedRequest:
        text = request.body.decode()
        return ParsedRequest([InboundEvent(EventKind.text, f"m-{text}", "u1", text=text)])

    async def send(self, message: OutboundMessage, config: Mapping[str, Any]) -> SendResult:
        self.sent.append(message)
        return SendResult(provider_id=f"out-{len(self.sent)}")

    async def fetch_media(self, media_id: str, config: Mapping[str, Any]) -> Media:
        return Media(b"\x89PNG", "image/png")

    async def join_link(self, join_code: str, config: Mapping[str, Any]) -> str:
        return f"https://fake.chat/{config['account_id']}?text={join_code}"


class FakeOcr:
    name = "fakeocr"
    label = "Fake OCR"

    async def read(self, image: bytes) -> list[OcrLine]:
        box = ((0.0, 0.0), (10.0, 0.0), (10.0, 5.0), (0.0, 5.0))
        return [OcrLine("TOTAL 12.50", box, 0.98)]


class FakeParser:
    name = "fakepos"
    label = "Fake POS"

    async def parse(self, lines: Sequence[OcrLine], profile: ReceiptProfile) -> ReceiptFields:
        return ReceiptFields(total=Found(Decimal(lines[0].text.split()[-1]), 0.9))


class FakeCheck:
    name = "fake_amount"
    label = "Amount above zero"
    order = 50

    async def check(self, receipt: ReceiptFacts, shop: ShopProfile) -> CheckResult:
        total = receipt.fields.total
        return CheckResult.ok() if total and total.value > 0 else CheckResult.failure("no_total")


class FakeReward:
    kind = "fakecoupon"
    label = "Fake coupon"
    option_fields = (SettingField("discount", "Discount"),)
    consumed_on_issue = False

    def validate_options(self, options):
        return options

    async def issue(self, grant: Grant) -> Issued:
        return Issued(code=f"FAKE-{grant.grant_id}")

    async def describe(self, grant: Grant, locale: str) -> str:
        return f"{grant.options.get('discount', '')} off"

    async def mark_used(self, grant: Grant) -> None:
        return None

    async def display(self, grant: Grant, locale: str) -> GrantDisplay:
        return GrantDisplay(code=grant.code, qr=True, label="fake")


class FakePayments:
    name = "fakepay"
    label = "Fake pay"

    async def start(self, payment: PaymentRequest) -> PaymentStart:
        return PaymentStart(provider_ref=f"pay-{payment.payment_id}")

    async def verify(self, provider_ref: str) -> PaymentStatus:
        return PaymentStatus.succeeded

    async def handle_webhook(self, request: InboundRequest) -> list:
        return []


class FakePlugin:
    """Registers one of everything and records which hooks were called."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.events: list[Any] = []

    @hookimpl
    def register_channels(self, register) -> None:
        self.calls.append("register_channels")
        register(FakeChannel())

    @hookimpl
    def register_ocr_engines(self, register) -> None:
        self.calls.append("register_ocr_engines")
        register(FakeOcr())

    @hookimpl
    def register_receipt_parsers(self, register) -> None:
        self.calls.append("register_receipt_parsers")
        register(FakeParser())

    @hookimpl
    def register_receipt_checks(self, register) -> None:
        self.calls.append("register_receipt_checks")
        register(FakeCheck())

    @hookimpl
    def register_reward_types(self, register) -> None:
        self.calls.append("register_reward_types")
        register(FakeReward())

    @hookimpl
    def register_payment_providers(self, register) -> None:
        self.calls.append("register_payment_providers")
        register(FakePayments())

    @hookimpl
    def register_tenant_settings(self, register) -> None:
        self.calls.append("register_tenant_settings")
        register(
            SettingField("greeting", "Greeting", help="Sent when a member joins"),
            SettingField("webhook_secret", "Webhook secret", secret=True),
        )

    @hookimpl
    def on_event(self, event) -> None:
        self.events.append(event)
