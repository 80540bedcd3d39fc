"""The console dashboard: the last 30 days at a glance, as server-rendered SVG charts.

Figures come from the domains (``ledger.figures.daily_totals`` and ``liability``,
``members.service.search_members`` counts, ``members.stats.joined_per_day``,
``rewards.stats.top_rewards``); this module only lays them out.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get
from litestar.response import Template

from loyalchat.frontend.pages.common.display import base_context, display_for
from loyalchat.frontend.pages.console import charts
from loyalchat.ledger import figures
from loyalchat.members import service as members
from loyalchat.members import stats as member_stats
from loyalchat.rewards import stats as reward_stats
from loyalchat.tenants.auth import role_required
from loyalchat.tenants.tables import Role

CASHIER = (role_required(Role.cashier),)
DAYS = 30
TOP_REWARDS = 5


class DashboardController(Controller):
    path = "/console/dashboard"
    include_in_schema = False
    guards = CASHIER

    @get("/")
    async def dashboard(self, request: Request) -> Template:
        tz = ZoneInfo(display_for(request).timezone)
        totals = await figures.daily_totals(DAYS, tz)
        days = [total.day for total in totals]
        points = charts.columns(
            days,
            {
                "earned": [total.earned for total in totals],
                "redeemed": [total.redeemed for total in totals],
            },
        )
        joined = await member_stats.joined_per_day(DAYS, tz)
        joined_chart = charts.columns(
            [row.day for row in joined], {"joined": [row.count for row in joined]}
        )
        since = datetime.combine(days[0], time.min, tzinfo=tz).astimezone(UTC)
        display = display_for(request)
        top = await reward_stats.top_rewards(since, TOP_REWARDS)
        top_rows = charts.rows(
            [(display.text(row.name) or "—", row.grants) for row in top], bar_max=220
        )
        member_count = (await members.search_members(limit=1)).total
        verified_count = (await members.search_members(verified=True, limit=1)).total
        return Template(
            "console/dashboard/home.html",
            context=base_context(
                request,
                days=DAYS,
                points_chart=points,
                joined_chart=joined_chart,
                joined=sum(row.count for row in joined),
                top_rows=top_rows,
                earned=sum(total.earned for total in totals),
                redeemed=sum(total.redeemed for total in totals),
                liability=await figures.liability(),
                member_count=member_count,
                verified_count=verified_count,
            ),
        )
