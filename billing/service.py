"""Billing's public face: plans, payments, usage and limits (see spec12.md).

The rules live in the modules named below; callers (the wizard, the admin's review, the
payment plugins, the console, the receipt pipeline) import from here.
"""

from __future__ import annotations

from loyalchat.billing.choose import choose_plan
from loyalchat.billing.figures import (
    FAILED_DAYS,
    OverdueShop,
    PaymentFigures,
    failed_payments,
    overdue_shops,
    payment_figures,
)
from loyalchat.billing.grace import enforce_grace
from loyalchat.billing.manual import (
    attach_slip,
    confirm_manual_payment,
    manual_payment,
    pending_manual_payments,
    reject_manual_payment,
)
from loyalchat.billing.payments import (
    IN_SERVICE,
    MANUAL,
    PaymentInfo,
    apply_payment_update,
    get_payment,
    list_payments,
    payment_state,
    pending_payment,
    plan_of,
    providers,
    subscription_row,
)
from loyalchat.billing.plans import (
    CURRENCIES,
    METRICS,
    PlanError,
    PlanInfo,
    PlanInput,
    create_plan,
    get_plan,
    get_plan_by_code,
    list_plans,
    update_plan,
)
from loyalchat.billing.trial import start_trial_clock
from loyalchat.billing.usage import (
    Usage,
    check_limits,
    count_usage,
    limit_reached,
    receipt_over_quota,
    usage,
)

__all__ = [
    "CURRENCIES",
    "FAILED_DAYS",
    "IN_SERVICE",
    "MANUAL",
    "METRICS",
    "OverdueShop",
    "PaymentFigures",
    "PaymentInfo",
    "PlanError",
    "PlanInfo",
    "PlanInput",
    "Usage",
    "apply_payment_update",
    "attach_slip",
    "check_limits",
    "choose_plan",
    "confirm_manual_payment",
    "count_usage",
    "create_plan",
    "enforce_grace",
    "failed_payments",
    "get_payment",
    "get_plan",
    "get_plan_by_code",
    "limit_reached",
    "list_payments",
    "list_plans",
    "manual_payment",
    "overdue_shops",
    "payment_figures",
    "payment_state",
    "pending_manual_payments",
    "pending_payment",
    "plan_of",
    "providers",
    "receipt_over_quota",
    "reject_manual_payment",
    "start_trial_clock",
    "subscription_row",
    "update_plan",
    "usage",
]
