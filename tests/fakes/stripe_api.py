"""A fake of Stripe's REST API: a real HTTP server on a free local port.

It speaks what loyalchat calls, as the stripe library sends it (form-encoded bodies with
bracket keys, ``Authorization: Bearer <secret key>``, ``Idempotency-Key``):

* ``POST /v1/customers``; ``POST /v1/checkout/sessions`` (a known price, absolute URLs,
  an existing customer); ``GET /v1/checkout/sessions/<id>``;
  ``POST /v1/billing_portal/sessions``; ``GET /v1/subscriptions/<id>``;
  ``POST /v1/subscriptions/<id>`` (a plan change: the item's price, prorated).
* Errors in Stripe's shape (``{"error": {"type", "message", "code", "param"}}``): 401 for
  a wrong key, 404 ``resource_missing``, 400 ``parameter_missing``/``url_invalid``, 400
  ``idempotency_error`` when a key comes back with other parameters; a key coming back
  with the same ones replays the first answer (``Idempotent-Replayed: true``).
* Stripe's side of a payment: :meth:`FakeStripeApi.complete_checkout` makes the
  subscription and its paid invoice and returns the events Stripe would send;
  :meth:`~FakeStripeApi.set_subscription_status` and :meth:`~FakeStripeApi.fail_invoice`
  likewise. A browser can pay on ``GET /c/pay/<session id>`` (one button): the events go
  to :attr:`FakeStripeApi.webhook_url` when set, then the browser to the success URL.

Webhooks are signed with the library's own helper (``stripe.WebhookSignature``: ``t=<ts>,
v1=HMAC-SHA256(secret, "<ts>.<payload>")``): :func:`signed_event`, :func:`deliver`.
The ``stripe_api`` fixture starts one per test and points ``LOYALCHAT_STRIPE_*`` at it.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import html
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import stripe

SECRET_KEY = "sk_test_fake_0123456789"
WEBHOOK_SECRET = "whsec_fake_0123456789abcdef"
PRICE = "price_test_basic"
PRICE_PRO = "price_test_pro"
MONTH = 30 * 24 * 3600


@dataclass(frozen=True, slots=True)
class StripeRequest:
    """Every request the fake received: its form parsed into nested dicts and lists."""

    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    params: dict[str, Any]


def parse_form(body: str) -> dict[str, Any]:
    """``a[b][0][c]=1`` as ``{"a": {"b": [{"c": "1"}]}}`` (how Stripe reads its forms)."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        head, bracket, rest = key.partition("[")
        names = [head, *re.findall(r"\[([^\]]*)\]", bracket + rest)]
        node = root
        for name in names[:-1]:
            child = node.setdefault(name, {})
            node = child if isinstance(child, dict) else node
        node[names[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    node = {key: _lists(value) for key, value in node.items()}
    if node and all(key.isdigit() for key in node):
        return [node[key] for key in sorted(node, key=int)]
    return node


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


class FakeStripeApi:
    def __init__(self, secret_key: str = SECRET_KEY, webhook_secret: str = WEBHOOK_SECRET):
        self.secret_key = secret_key
        self.webhook_secret = webhook_secret
        self.prices: dict[str, dict[str, Any]] = {
            PRICE: {"unit_amount": 29900, "currency": "hkd"},
            PRICE_PRO: {"unit_amount": 59900, "currency": "hkd"},
        }
        self.customers: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.invoices: dict[str, dict[str, Any]] = {}
        self.portal_sessions: list[dict[str, Any]] = []
        self.changes: list[dict[str, Any]] = []  # the events of each plan change, by type
        self.requests: list[StripeRequest] = []
        self.webhook_url = ""  # where a browser's payment sends its events
        self._replays: dict[str, tuple[str, dict[str, Any], int, dict[str, Any]]] = {}
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> FakeStripeApi:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def calls(self, method: str, path_prefix: str) -> list[StripeRequest]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    # -- Stripe's side of a payment -----------------------------------------------------

    def event(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        """An event as Stripe sends it, with a snapshot of ``obj``."""
        return {
            "id": _id("evt"),
            "object": "event",
            "api_version": stripe.api_version,
            "created": int(time.time()),
            "type": kind,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": copy.deepcopy(obj)},
        }

    def complete_checkout(self, session_id: str, *, status: str = "") -> dict[str, Any]:
        """The customer paid: the subscription and its paid invoice exist; returns the
        events by type (``checkout.session.completed``, ``invoice.paid``,
        ``customer.subscription.created``)."""
        with self._lock:
            session = self.sessions[session_id]
            status = status or ("trialing" if session["_trial_days"] else "active")
            now = int(time.time())
            price = session["_price"]
            sub = {
                "id": _id("sub"),
                "object": "subscription",
                "customer": session["customer"],
                "status": status,
                "metadata": dict(session["_subscription_metadata"]),
                "cancel_at_period_end": False,
                "created": now,
                "items": {
                    "object": "list",
                    "data": [
                        {
                            "id": _id("si"),
                            "object": "subscription_item",
                            "price": {"id": price, **self.prices[price]},
                            "quantity": 1,
                            "current_period_start": now,
                            "current_period_end": now + MONTH,
                        }
                    ],
                },
            }
            self.subscriptions[sub["id"]] = sub
            invoice = self._invoice(sub, "paid", "subscription_create")
            sub["latest_invoice"] = invoice["id"]
            paid = "no_payment_required" if status == "trialing" else "paid"
            session.update(status="complete", payment_status=paid, subscription=sub["id"])
            return {
                "customer.subscription.created": self.event("customer.subscription.created", sub),
                "invoice.paid": self.event("invoice.paid", invoice),
                "checkout.session.completed": self.event(
                    "checkout.session.completed", _public(session)
                ),
            }

    def set_subscription_status(self, subscription_id: str, status: str) -> dict[str, Any]:
        """The subscription changed (``canceled``: deleted); returns Stripe's event."""
        with self._lock:
            sub = self.subscriptions[subscription_id]
            sub["status"] = status
            kind = "deleted" if status == "canceled" else "updated"
            return self.event(f"customer.subscription.{kind}", sub)

    def fail_invoice(self, subscription_id: str) -> dict[str, Any]:
        """A renewal's payment failed: the subscription is past due."""
        with self._lock:
            sub = self.subscriptions[subscription_id]
            sub["status"] = "past_due"
            invoice = self._invoice(sub, "open")
            sub["latest_invoice"] = invoice["id"]
            return self.event("invoice.payment_failed", invoice)

    def pay_invoice(self, subscription_id: str) -> dict[str, Any]:
        """The open invoice (a failed one, retried) or a new renewal was paid: the
        subscription is active again."""
        with self._lock:
            sub = self.subscriptions[subscription_id]
            sub["status"] = "active"
            invoice = self.invoices.get(sub.get("latest_invoice", ""))
            if invoice is None or invoice["status"] != "open":
                invoice = self._invoice(sub, "paid")
                sub["latest_invoice"] = invoice["id"]
            invoice.update(status="paid", amount_paid=invoice["amount_due"])
            return self.event("invoice.paid", invoice)

    def _invoice(
        self, sub: dict[str, Any], status: str, reason: str = "subscription_cycle"
    ) -> dict[str, Any]:
        price = sub["items"]["data"][0]["price"]
        invoice = {
            "id": _id("in"),
            "object": "invoice",
            "customer": sub["customer"],
            "status": status,
            "billing_reason": reason,
            "amount_due": price["unit_amount"],
            "amount_paid": price["unit_amount"] if status == "paid" else 0,
            "currency": price["currency"],
            "hosted_invoice_url": f"{self.base_url}/i/{sub['id']}",
            "parent": {
                "type": "subscription_details",
                "subscription_details": {"subscription": sub["id"], "metadata": sub["metadata"]},
            },
        }
        self.invoices[invoice["id"]] = invoice
        return invoice

    # -- the API ------------------------------------------------------------------------

    def answer(self, method: str, path: str, headers: dict[str, str], body: str):
        """(status, JSON body, extra headers) for one request."""
        if headers.get("authorization", "") != f"Bearer {self.secret_key}":
            return 401, _error("invalid_request_error", "Invalid API Key provided"), {}
        params = parse_form(body) if method == "POST" else {}
        with self._lock:
            self.requests.append(StripeRequest(method, path, headers, params))
            key = headers.get("idempotency-key", "")
            if method == "POST" and key:
                earlier = self._replays.get(key)
                if earlier is not None:
                    if earlier[:2] != (path, params):
                        message = "Keys for idempotent requests can only be used with the same parameters they were first used with."
                        return 400, _error("idempotency_error", message), {}
                    return earlier[2], earlier[3], {"Idempotent-Replayed": "true"}
            status, answer = self._route(method, path, params)
            if method == "POST" and key and status < 500:
                self._replays[key] = (path, params, status, answer)
            return status, answer, {}

    def _route(self, method: str, path: str, p: dict[str, Any]) -> tuple[int, dict]:
        parts = path.strip("/").split("/")
        if method == "POST" and path == "/v1/customers":
            return self._create_customer(p)
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._create_session(p)
        if method == "GET" and parts[:3] == ["v1", "checkout", "sessions"] and len(parts) == 4:
            return _found(self.sessions.get(parts[3]), "checkout.session", parts[3])
        if method == "POST" and path == "/v1/billing_portal/sessions":
            return self._create_portal(p)
        if method == "GET" and parts[:2] == ["v1", "subscriptions"] and len(parts) == 3:
            return _found(self.subscriptions.get(parts[2]), "subscription", parts[2])
        if method == "POST" and parts[:2] == ["v1", "subscriptions"] and len(parts) == 3:
            return self._update_subscription(parts[2], p)
        return 404, _error("invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    def _create_customer(self, p: dict[str, Any]) -> tuple[int, dict]:
        customer = {
            "id": _id("cus"),
            "object": "customer",
            "email": p.get("email"),
            "description": p.get("description"),
            "metadata": p.get("metadata") or {},
            "created": int(time.time()),
        }
        self.customers[customer["id"]] = customer
        return 200, customer

    def _create_session(self, p: dict[str, Any]) -> tuple[int, dict]:
        if p.get("mode") not in ("payment", "setup", "subscription"):
            return 400, _error("invalid_request_error", "Missing required param: mode.", "mode")
        for name in ("success_url", "cancel_url"):
            if not str(p.get(name, "")).startswith(("http://", "https://")):
                return 400, _error("invalid_request_error", "Not a valid URL", name, "url_invalid")
        items = p.get("line_items")
        price = items[0].get("price") if isinstance(items, list) and items else None
        if price not in self.prices:
            return 400, _error("invalid_request_error", f"No such price: '{price}'", "line_items")
        customer = p.get("customer")
        if customer is not None and customer not in self.customers:
            return 400, _error(
                "invalid_request_error", f"No such customer: '{customer}'", "customer"
            )
        session_id = _id("cs_test")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": p["mode"],
            "status": "open",
            "payment_status": "unpaid",
            "customer": customer,
            "client_reference_id": p.get("client_reference_id"),
            "metadata": p.get("metadata") or {},
            "subscription": None,
            "success_url": p["success_url"],
            "cancel_url": p["cancel_url"],
            "url": f"{self.base_url}/c/pay/{session_id}",
            "currency": self.prices[price]["currency"],
            "amount_total": self.prices[price]["unit_amount"],
            "created": int(time.time()),
            "_price": price,
            "_subscription_metadata": (p.get("subscription_data") or {}).get("metadata") or {},
            "_trial_days": (p.get("subscription_data") or {}).get("trial_period_days"),
        }
        self.sessions[session_id] = session
        return 200, _public(session)

    def _update_subscription(self, subscription_id: str, p: dict[str, Any]) -> tuple[int, dict]:
        """A plan change: the item's price (prorated: ``always_invoice`` bills the
        difference now) and metadata; the events Stripe sends go to :attr:`changes`."""
        sub = self.subscriptions.get(subscription_id)
        if sub is None:
            return _found(None, "subscription", subscription_id)
        item = sub["items"]["data"][0]
        wanted = (p.get("items") or [{}])[0]
        if wanted.get("id") != item["id"]:
            return 400, _error("invalid_request_error", "No such subscription item", "items")
        price = wanted.get("price", item["price"]["id"])
        if price not in self.prices:
            return 400, _error("invalid_request_error", f"No such price: '{price}'", "items")
        before = item["price"]["unit_amount"]
        item["price"] = {"id": price, **self.prices[price]}
        sub["metadata"] = {**sub["metadata"], **(p.get("metadata") or {})}
        events = {"customer.subscription.updated": self.event("customer.subscription.updated", sub)}
        if p.get("proration_behavior") == "always_invoice":
            invoice = self._invoice(sub, "paid", "subscription_update")
            invoice["amount_due"] = invoice["amount_paid"] = max(
                0, item["price"]["unit_amount"] - before
            )
            events["invoice.paid"] = self.event("invoice.paid", invoice)
        self.changes.append(events)
        return 200, _public(sub)

    def _create_portal(self, p: dict[str, Any]) -> tuple[int, dict]:
        customer = p.get("customer")
        if customer not in self.customers:
            return 400, _error(
                "invalid_request_error", f"No such customer: '{customer}'", "customer"
            )
        portal_id = _id("bps")
        portal = {
            "id": portal_id,
            "object": "billing_portal.session",
            "customer": customer,
            "return_url": p.get("return_url"),
            "url": f"{self.base_url}/p/session/{portal_id}",
        }
        self.portal_sessions.append(portal)
        return 200, portal

    # -- a browser paying ---------------------------------------------------------------

    def pay_page(self, session_id: str) -> str:
        session = self.sessions.get(session_id)
        if session is None:
            return "<p>No such session</p>"
        amount = f"{session['amount_total'] / 100:.2f} {session['currency'].upper()}"
        return (
            f"<!doctype html><title>Fake Stripe Checkout</title><h1>Pay {html.escape(amount)}</h1>"
            f'<form method="post"><button type="submit">Pay</button></form>'
            f'<a href="{html.escape(session["cancel_url"])}">Cancel</a>'
        )

    def pay(self, session_id: str) -> str:
        """The browser's Pay button: complete, send the events, the success URL."""
        events = self.complete_checkout(session_id)
        if self.webhook_url:
            for event in events.values():
                self.send_event(self.webhook_url, event)
        session = self.sessions[session_id]
        return session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)

    def send_event(self, url: str, event: dict[str, Any], timestamp: int | None = None) -> int:
        """POST ``event``, signed, to a running app's ``/hooks/stripe``; its status."""
        body, headers = signed_event(event, self.webhook_secret, timestamp)
        return httpx.post(url, content=body, headers=headers, timeout=30).status_code


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if not key.startswith("_")}


def _found(obj: dict[str, Any] | None, what: str, object_id: str) -> tuple[int, dict]:
    if obj is None:
        message = f"No such {what}: '{object_id}'"
        return 404, _error("invalid_request_error", message, "id", "resource_missing")
    return 200, _public(obj)


def _error(kind: str, message: str, param: str | None = None, code: str | None = None) -> dict:
    error: dict[str, Any] = {"type": kind, "message": message}
    if param:
        error["param"] = param
    if code or kind == "idempotency_error" or param:
        error["code"] = code or ("parameter_invalid" if param else kind)
    return {"error": error}


def _handler(fake: FakeStripeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _read(self) -> str:
            size = int(self.headers.get("content-length") or 0)
            return self.rfile.read(size).decode("utf-8") if size else ""

        def _reply(self, status: int, body: bytes, kind: str, extra: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            self.send_header("request-id", _id("req"))
            for name, value in (extra or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _api(self, method: str) -> None:
            path = urlsplit(self.path).path
            body = self._read()
            if path.startswith("/c/pay/"):
                self._browser(method, path.removeprefix("/c/pay/"))
                return
            if path.startswith(("/p/session/", "/i/")):
                self._reply(200, b"<!doctype html><title>Fake Stripe</title>", "text/html")
                return
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, answer, extra = fake.answer(method, path, headers, body)
            self._reply(status, json.dumps(answer).encode(), "application/json", extra)

        def _browser(self, method: str, session_id: str) -> None:
            if method == "GET":
                page = fake.pay_page(session_id).encode()
                self._reply(200, page, "text/html; charset=utf-8")
                return
            if session_id not in fake.sessions:
                self._reply(404, b"no such session", "text/plain")
                return
            self._reply(303, b"", "text/plain", {"location": fake.pay(session_id)})

        def do_GET(self) -> None:
            self._api("GET")

        def do_POST(self) -> None:
            self._api("POST")

        def do_DELETE(self) -> None:
            self._api("DELETE")

    return Handler


# -- webhooks -----------------------------------------------------------------------------


def signed_event(
    event: dict[str, Any] | bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """``event``'s body and headers with a ``Stripe-Signature`` made by the library."""
    body = event if isinstance(event, bytes) else json.dumps(event, indent=2).encode()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:  # Stripe never sends such a body; a test may, signed
        at = int(time.time()) if timestamp is None else timestamp
        mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
        header = f"t={at},v1={mac}"
    else:
        header = stripe.WebhookSignature.generate_signature_header(text, secret, timestamp)
    return body, {"stripe-signature": header, "content-type": "application/json; charset=utf-8"}


async def deliver(
    client: Any,
    event: dict[str, Any] | bytes,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
) -> Any:
    """POST a signed event to ``/hooks/stripe`` through a Litestar test client."""
    body, headers = signed_event(event, secret, timestamp)
    return await client.post("/hooks/stripe", content=body, headers=headers)


@pytest.fixture
def stripe_api() -> Iterator[FakeStripeApi]:
    """A running fake Stripe API; the ``LOYALCHAT_STRIPE_*`` settings point at it meanwhile."""
    fake = FakeStripeApi().start()
    names = {
        "LOYALCHAT_STRIPE_SECRET_KEY": fake.secret_key,
        "LOYALCHAT_STRIPE_WEBHOOK_SECRET": fake.webhook_secret,
        "LOYALCHAT_STRIPE_API_BASE": fake.base_url,
    }
    before = {name: os.environ.get(name) for name in names}
    os.environ.update(names)
    try:
        yield fake
    finally:
        fake.stop()
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
