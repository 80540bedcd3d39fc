"""Part 3 of ``bench/receipt_pipeline.py``: what the pipeline decides on a mixed set of
real and generated receipts, against the truth.

Shops (tenants), each with its receipt profile proposed from its own sample photos through
``loyalchat.receipts.samples.propose_profile`` (as the console does) and its labelled
name as the tenant's name; the sample photos are never among the receipts judged:

- real: every company of ``../shared/receipts`` (SROIE, Malaysia, MYR) with at least
  ``MIN_RECEIPTS`` receipts; 3 of its receipts make the profile, the others are sent.
- generated: two shops drawn by ``loyalchat.tools.receipt_synth`` from ``--seed`` (hk and
  cn styles), their receipts printing the shop's lines, photographed on a table.

What is sent, each by a member of its own, through ``receipts.service.receive`` and
``receipts.pipeline.process`` (no HTTP, no queue):

- good: the shop's receipt, dated within its window -> should credit the printed total.
- old: the shop's receipt, sent 40 days after its date -> should reject (too_old).
- other shop: a receipt of a company that is not the shop (and not its brand) -> should
  reject (other_shop).
- exact re-send: the same file as a receipt already credited, by another member ->
  should reject (duplicate).
- re-photographed: the credited receipt photographed again (perspective, turn, light,
  blur, another JPEG quality: ``bench/receipt_dupes.recapture``), by another member ->
  must not credit; reject (duplicate) or review are both right.

A real receipt is "sent" the day after its printed date (``now`` given to ``process``),
an old one 40 days after. Velocity limits are raised (one receipt per member here). The
proposed profiles are saved as proposed: the merchant's confirmation of the names, which the
console asks for, is skipped.

Run 5 Dec 2026 (seed 20261205, all 191 receipts, ``--dupes 4``): 110 of 122 good receipts
credited right, 11 to review, none wrongly rejected; 2 wrongly credited: another shop's
receipt whose header read "CASH", which the proposed profile of SYARIKAT PERNIAGAAN GIN KEE
holds as a name (its samples print CASH near the top), and a GARDENIA credit note (total
-1.73) credited 14.40. With ``--limit 80 --dupes 2`` a re-photographed MR. D.I.Y. receipt
was credited twice: no receipt number was read, so no (merchant, number, date, total) key
was claimed, and the perceptual hash did not flag it. Old real receipts go to review
(15 of 19: a date read less surely only warns), not rejected.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import io
import json
import os
import random
import re
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "receipts"
MIN_RECEIPTS = 8  # a real company with fewer is only ever "another shop" (9 shops)
PROFILE_SAMPLES = 3
OLD_DAYS = 40
FINGERPRINT_SEED = 11  # bench/receipt_dupes.py's split of the SROIE companies
CATEGORIES = ("good", "old", "other shop", "exact re-send", "re-photographed")
EXPECTED = {"old": "too_old", "other shop": "other_shop", "exact re-send": "duplicate",
            "re-photographed": "duplicate"}  # fmt: skip


@dataclass
class Case:
    """One photo sent to one shop, and the truth about it."""

    group: str  # which set it belongs to (real: tuning / held-out half; generated)
    category: str
    shop: str
    data: bytes
    amount: Decimal | None  # what a credit should be (good receipts)
    now: dt.datetime | None  # when it is sent (None: the real clock)
    source: str  # image name or generated seed
    outcome: dict = field(default_factory=dict)


def brand(name: str) -> str:
    """The first two words of a company's name, folded: 'MR. D.I.Y. (M)' = 'MR. D.I.Y. (KUCHAI)'."""
    return " ".join(re.sub(r"[^a-z0-9 ]", "", name.lower()).split()[:2])


def fingerprint_half(companies: list[str]) -> dict[str, str]:
    """Which half of bench/receipt_dupes.py's split each company fell in (seed 11)."""
    ordered = sorted(companies)
    random.Random(FINGERPRINT_SEED).shuffle(ordered)
    return {c: ("fingerprint-tuning" if i % 2 == 0 else "fingerprint-held-out")
            for i, c in enumerate(ordered)}  # fmt: skip


def real_cases(seed: int) -> tuple[dict[str, dict], list[Case]]:
    labels = json.loads((SHARED / "labels.json").read_text(encoding="utf-8"))
    by_company: dict[str, list[dict]] = defaultdict(list)
    for label in labels:
        by_company[label["company"]].append(label)
    half = fingerprint_half(list(by_company))
    kl = ZoneInfo("Asia/Kuala_Lumpur")
    shops: dict[str, dict] = {}
    cases: list[Case] = []
    tenants = sorted(c for c, rows in by_company.items() if len(rows) >= MIN_RECEIPTS)
    for company in tenants:
        rows = sorted(by_company[company], key=lambda row: row["image"])
        random.Random(f"{seed}:{company}").shuffle(rows)
        group = f"real ({half[company]})"
        shops[company] = {"name": company, "currency": "MYR", "timezone": "Asia/Kuala_Lumpur",
                          "samples": [(SHARED / r["image"]).read_bytes() for r in rows[:PROFILE_SAMPLES]],
                          "group": group}  # fmt: skip
        for n, row in enumerate(rows[PROFILE_SAMPLES:]):
            printed = dt.date.fromisoformat(row["date"])
            old = n % 6 == 5
            sent = printed + dt.timedelta(days=OLD_DAYS if old else 1)
            cases.append(Case(
                group, "old" if old else "good", company, (SHARED / row["image"]).read_bytes(),
                None if old else Decimal(row["total"]),
                dt.datetime.combine(sent, dt.time(15), tzinfo=kl), row["image"],
            ))  # fmt: skip
    # Other shops: companies too small to be a tenant, of another brand, two per tenant.
    strangers = [row for c, rows in sorted(by_company.items()) if len(rows) < MIN_RECEIPTS
                 for row in rows]  # fmt: skip
    random.Random(f"{seed}:strangers").shuffle(strangers)
    for company in tenants:
        picked = [r for r in strangers if brand(r["company"]) != brand(company)][:2]
        for row in picked:
            strangers.remove(row)
            sent = dt.date.fromisoformat(row["date"]) + dt.timedelta(days=1)
            cases.append(Case(
                shops[company]["group"], "other shop", company, (SHARED / row["image"]).read_bytes(),
                None, dt.datetime.combine(sent, dt.time(15), tzinfo=kl), row["image"],
            ))  # fmt: skip
    return shops, cases


SHOP_LINES = ("merchant", "merchant_aliases", "header_lines")


def generated_cases(seed: int, today: dt.date) -> tuple[dict[str, dict], list[Case]]:
    from loyalchat.tools.receipt_synth import content, make_spec, photograph, render_receipt
    from loyalchat.tools.receipt_synth.dataset import encode_jpeg

    def spec_of(own: int, style: str):
        while True:  # the shop's currency: HKD or CNY
            spec = make_spec(own, style, today=today)
            if spec.currency in ("HKD", "CNY"):
                return spec
            own += 1_000_003

    def photo(spec) -> bytes:
        rng = random.Random(f"acc-photo:{spec.seed}")
        image, _ = photograph(render_receipt(spec, rng), rng, 0.5)
        return encode_jpeg(image, rng.randint(80, 90))

    shops: dict[str, dict] = {}
    cases: list[Case] = []
    group = f"generated (seed {seed}: held out)"
    for k, style in enumerate(("hk", "cn")):
        identity = spec_of(seed * 10 + k, style)
        name = identity.merchant
        receipts = []
        for n in range(PROFILE_SAMPLES + 14):
            spec = spec_of(seed * 1000 + k * 100 + n, style)
            rng = random.Random(f"acc-date:{spec.seed}")
            category = "old" if n >= PROFILE_SAMPLES + 12 else "good"
            ago = rng.randint(20, 60) if category == "old" else rng.randint(0, 4)
            printed = today - dt.timedelta(days=ago)
            spec = dataclasses.replace(
                spec, **{f: getattr(identity, f) for f in SHOP_LINES}, currency=identity.currency,
                currency_mark=identity.currency_mark, mark_suffix=identity.mark_suffix,
                date=printed, date_text=content._date_text(rng, style, printed),
            )  # fmt: skip
            receipts.append((category, spec))
        tz = "Asia/Hong_Kong" if style == "hk" else "Asia/Shanghai"
        shops[name] = {"name": name, "currency": identity.currency, "timezone": tz,
                       "samples": [photo(s) for _, s in receipts[:PROFILE_SAMPLES]], "group": group}  # fmt: skip
        for category, spec in receipts[PROFILE_SAMPLES:]:
            amount = spec.total if category == "good" else None
            cases.append(
                Case(group, category, name, photo(spec), amount, None, f"seed {spec.seed}")
            )
        for n in range(4):  # other shops of the same style, dated within the window
            spec = spec_of(seed * 1000 + 500 + k * 10 + n, style)
            spec = dataclasses.replace(spec, date=today, date_text=content._date_text(
                random.Random(n), style, today))  # fmt: skip
            cases.append(
                Case(group, "other shop", name, photo(spec), None, None, f"seed {spec.seed}")
            )
    return shops, cases


def duplicates(done: list[Case], seed: int, per_group: int) -> list[Case]:
    """Exact re-sends and re-photographs of credited receipts (another member each)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from PIL import Image
    from receipt_dupes import recapture

    rng = random.Random(f"{seed}:dupes")
    out: list[Case] = []
    credited = [c for c in done if c.category == "good" and c.outcome.get("status") == "credited"]
    by_group: dict[str, list[Case]] = defaultdict(list)
    for case in credited:
        by_group[case.group].append(case)
    for group, items in sorted(by_group.items()):
        rng.shuffle(items)
        for n, original in enumerate(items[: 2 * per_group]):
            later = original.now + dt.timedelta(hours=1) if original.now else None
            if n % 2 == 0:
                out.append(Case(group, "exact re-send", original.shop, original.data, None, later,
                                original.source))  # fmt: skip
            else:
                image = Image.open(io.BytesIO(original.data))
                out.append(Case(group, "re-photographed", original.shop,
                                recapture(image, random.Random(f"{seed}:{original.source}")),
                                None, later, original.source))  # fmt: skip
    return out


def child(job: dict) -> dict:
    os.environ.update(job["env"])
    return asyncio.run(_child(job))


async def _child(job: dict) -> dict:
    from channels_support import _configure

    from loyalchat import db
    from loyalchat.context import Actor, tenant_context
    from loyalchat.extensions.receipts import ReceiptProfile
    from loyalchat.members import service as members
    from loyalchat.pluginmanager import build_plugin_manager, use_plugin_manager
    from loyalchat.receipts import pipeline, samples, service
    from loyalchat.receipts.settings import ReceiptRules, save_receipt_settings
    from loyalchat.rules import service as rules
    from loyalchat.rules.schemas import RuleCreate
    from loyalchat.rules.tables import RuleKind
    from loyalchat.tenants import service as tenants
    from loyalchat.tenants.tables import TenantStatus

    engine = _configure(job["env"])
    await db.migrate(engine)
    started = time.perf_counter()
    today = dt.date.today()
    shops, cases = real_cases(job["seed"])
    more_shops, more = generated_cases(job["seed"], today)
    shops.update(more_shops)
    cases += more
    if job["limit"]:
        cases = spread(cases, job["limit"])
    pm = build_plugin_manager()
    tenant_ids: dict[str, int] = {}
    system = Actor("system", label="bench")
    with use_plugin_manager(pm):
        for n, (key, shop) in enumerate(progress(list(shops.items()), "shops' profiles")):
            made = await tenants.create_tenant(f"acc-shop-{n}", shop["name"][:120],
                    status=TenantStatus.active, timezone=shop["timezone"],
                    currency=shop["currency"])  # fmt: skip
            tenant_ids[key] = made.id
            with tenant_context(made.id, system):
                base = ReceiptProfile(currency=shop["currency"], timezone=shop["timezone"])
                proposed, _ = await samples.propose_profile(shop["samples"], base=base, pm=pm)
                shop["names"] = list(proposed.merchant_names)
                await save_receipt_settings(
                    ReceiptRules(profile=proposed, per_hour=100, per_day=500)
                )
                await rules.create_rule(RuleCreate(name="Base", kind=RuleKind.ratio,
                                                       points_per_unit=Decimal(1)))  # fmt: skip

        async def send(case: Case) -> None:
            with tenant_context(tenant_ids[case.shop], system):
                member = await members.create_member()
                from loyalchat.media import store

                key = await store.save(case.data, kind="receipt")
                rid = await service.receive(media_key=key, member_id=member.id, channel="bench")
                t0 = time.perf_counter()
                try:
                    await pipeline.process(rid, now=case.now)
                except Exception as exc:
                    case.outcome["error"] = f"{type(exc).__name__}: {exc}"[:200]
                got = await service.get_receipt(rid)
                case.outcome.update(status=got.status, reasons=list(got.reasons),
                                    amount=None if got.amount is None else str(got.amount),
                                    total=None if got.total is None else str(got.total),
                                    seconds=time.perf_counter() - t0)  # fmt: skip

        first = [c for c in cases]
        for case in progress(first, "receipts"):
            await send(case)
        dupes = duplicates(first, job["seed"], job["dupes"])
        for case in progress(dupes, "duplicates"):
            await send(case)
    everything = first + dupes
    return {
        "cases": [
            {k: v for k, v in dataclasses.asdict(c).items() if k != "data"}
            | {
                "amount": None if c.amount is None else str(c.amount),
                "now": None if c.now is None else c.now.isoformat(),
            }
            for c in everything
        ],
        "shops": {k: {"names": s.get("names", []), "group": s["group"]} for k, s in shops.items()},
        "seconds": time.perf_counter() - started,
    }


def progress(items: list, label: str):
    """``items``, with a line on stderr every 10 (and at the end): a log file shows it too."""
    started = time.perf_counter()
    for n, item in enumerate(items, 1):
        yield item
        if n % 10 == 0 or n == len(items):
            print(f"  {label}: {n}/{len(items)} in {time.perf_counter() - started:.0f} s",
                  file=sys.stderr, flush=True)  # fmt: skip


def spread(cases: list[Case], limit: int) -> list[Case]:
    """At most ``limit`` cases, taken evenly from each (group, category)."""
    buckets: dict[tuple[str, str], list[Case]] = defaultdict(list)
    for case in cases:
        buckets[(case.group, case.category)].append(case)
    out: list[Case] = []
    while len(out) < limit and any(buckets.values()):
        for key in sorted(buckets):
            if buckets[key] and len(out) < limit:
                out.append(buckets[key].pop(0))
    return out


COLUMNS = ("n", "credit ok", "WRONG credit", "reject ok", "reject other", "WRONG reject",
           "review", "asked", "error")  # fmt: skip
LEGEND = (
    "credit ok: credited the printed total; WRONG credit: credited a receipt that should not "
    "credit, or another amount; reject ok: rejected for the planted reason (too_old, "
    "other_shop, duplicate); reject other: rejected for another reason; WRONG reject: a good "
    "receipt rejected; review: sent to staff; asked: the bot asked the member to confirm the "
    "total; error: process() raised or left the receipt in flight"
)


def judge(case: dict) -> str:
    """The column a case falls in."""
    out = case["outcome"]
    status = out.get("status")
    if out.get("error") or status not in (
        "credited",
        "rejected",
        "needs_review",
        "awaiting_member",
    ):
        return "error"
    if status == "credited":
        right = case["category"] == "good" and Decimal(out["amount"]) == Decimal(case["amount"])
        return "credit ok" if right else "WRONG credit"
    if status == "rejected":
        if case["category"] == "good":
            return "WRONG reject"
        return "reject ok" if EXPECTED[case["category"]] in out["reasons"] else "reject other"
    return "review" if status == "needs_review" else "asked"


def report(result: dict) -> None:
    cases = result["cases"]
    table: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for case in cases:
        column = judge(case)
        for key in ((case["group"], case["category"]), ("all", case["category"]), ("all", "all")):
            table[key]["n"] += 1
            table[key][column] += 1
    widths = [max(len(c), 4) for c in COLUMNS]
    head = f"  {'set':<40}{'category':<17}" + "".join(
        f"{c:>{w + 2}}" for c, w in zip(COLUMNS, widths, strict=True)
    )
    print(head)
    print("  " + "-" * (len(head) - 2))
    order = {c: i for i, c in enumerate((*CATEGORIES, "all"))}
    for (group, category), counts in sorted(
        table.items(), key=lambda kv: (kv[0][0] == "all", kv[0][0], order[kv[0][1]])
    ):
        print(
            f"  {group:<40}{category:<17}"
            + "".join(f"{counts[c]:>{w + 2}}" for c, w in zip(COLUMNS, widths, strict=True))
        )
    print(f"  ({LEGEND})")
    wrong = [c for c in cases if judge(c) == "WRONG credit"]
    print(f"\n  wrongly credited: {len(wrong)} (must be 0)")
    for case in wrong:
        print(
            f"    {case['group']} / {case['category']} / {case['shop']}: {case['source']}, truth "
            f"{case['amount']}, credited {case['outcome'].get('amount')} (read {case['outcome'].get('total')})"
        )
    reasons = Counter((c["category"], r) for c in cases for r in c["outcome"].get("reasons") or [])
    print(
        "  reasons by category: "
        + "; ".join(f"{cat}: {r} {n}" for (cat, r), n in sorted(reasons.items()))
    )
    errors = Counter(c["outcome"].get("error") for c in cases if c["outcome"].get("error"))
    if errors:
        print(f"  errors: {dict(errors)}")
    secs = sorted(c["outcome"].get("seconds", 0) for c in cases)
    print(
        f"  process() per receipt p50 {secs[len(secs) // 2]:.2f} s; whole part {result['seconds']:.0f} s"
    )


def run(args) -> None:
    from channels import in_child, loadavg

    var = Path(tempfile.mkdtemp(prefix="lc-bench-accuracy-"))
    env = {"LOYALCHAT_VAR_DIR": str(var), "LOYALCHAT_LOG_LEVEL": "ERROR", "LOYALCHAT_REDIS_URL": "",
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    if args.accuracy_db == "pg":
        env["LOYALCHAT_DATABASE_URL"] = args.database_url
    else:
        env["LOYALCHAT_DATABASE_URL"] = f"sqlite:///{var}/accuracy.db"
    print(f"\n3. accuracy ({env['LOYALCHAT_DATABASE_URL']}, {loadavg()} before)", file=sys.stderr)
    job = {"env": env, "seed": args.seed, "limit": args.limit, "dupes": args.dupes}
    if args.accuracy_db == "pg":
        from receipt_pipeline_support import _reset_postgres

        asyncio.run(_reset_postgres(args.database_url))
    result = in_child(child, job)
    cases = result["cases"]
    print(f"\n3. accuracy: {len(cases)} receipts through receipts.pipeline.process "
          f"({env['LOYALCHAT_DATABASE_URL'].split(':')[0]}); {loadavg()} after")  # fmt: skip
    counts = Counter((c["group"], c["category"]) for c in cases)
    print(
        "  receipts per set and category: "
        + "; ".join(f"{g} / {c}: {n}" for (g, c), n in sorted(counts.items()))
    )
    print(
        "  sets: 'real' = ../shared/receipts (SROIE). The reader and parser were developed on these "
        "300 photos (not held out for reading); bench/receipt_dupes.py tuned the perceptual "
        "review distance on the 'fingerprint-tuning' half of its companies (seed 11), the "
        "other half is held out for it. Each shop's profile comes from 3 of its own receipts, "
        f"never judged. 'generated' = receipt_synth with seed {args.seed}, used by no tuning run "
        "(the generator itself was used while the reader was built)."
    )
    for name, shop in result["shops"].items():
        print(f"  shop {name!r} ({shop['group']}): profile names {shop['names']}")
    report(result)
