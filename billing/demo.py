"""Two plans for ``loyalchat demo``, so a newly signed-up shop has something to choose."""

from __future__ import annotations

from loyalchat.billing.plans import PlanInput, create_plan, list_plans

DEMO_PLANS = (
    PlanInput(
        code="starter",
        name="Starter",
        monthly_price="199.00",
        limits={
            "members": 500,
            "receipts_per_month": 1000,
            "channels": 2,
            "staff_seats": 3,
            "broadcasts_per_month": 2,
        },
        trial_days=14,
    ),
    PlanInput(
        code="growth",
        name="Growth",
        monthly_price="499.00",
        limits={
            "members": 5000,
            "receipts_per_month": 10000,
            "channels": 4,
            "staff_seats": 10,
            "broadcasts_per_month": 8,
        },
    ),
)


async def ensure_demo_plans() -> int:
    """Create the demo plans that do not exist yet (by code); how many were created."""
    have = {plan.code for plan in await list_plans(active_only=False)}
    created = 0
    for plan in DEMO_PLANS:
        if plan.code not in have:
            await create_plan(plan)
            created += 1
    return created
