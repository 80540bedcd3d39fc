"""The rewards catalogue in the console: list, create and edit, and each reward's grants
(its redemptions, from ``rewards.stats.reward_grants``).

Thin: ``rewards.service`` validates (with the reward type's own option rules) and
stores. Reward types come from plugins (``register_reward_types``); the form offers the
types the shop uses (``tenants.plugin_access``) with their option fields.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST

from loyalchat import i18n
from loyalchat.bounds import PageNumber, PathId
from loyalchat.domain import DomainError, NotFound
from loyalchat.frontend import ui
from loyalchat.frontend.pages.common import form_fields as ff
from loyalchat.frontend.pages.common.display import base_context, display_for
from loyalchat.frontend.pages.console import reward_forms
from loyalchat.i18n import N_
from loyalchat.rewards import service as rewards
from loyalchat.rewards import stats as reward_stats
from loyalchat.rewards.schemas import RewardCreate, RewardOut, RewardUpdate
from loyalchat.rewards.tables import GrantStatus
from loyalchat.tenants.auth import role_required
from loyalchat.tenants.plugin_controllers import plugin_manager
from loyalchat.tenants.tables import Role

REWARD = {"tenant_object": "reward"}
MANAGER = (role_required(Role.manager),)
PER_PAGE = 50
STATUSES = ("all", *(status.value for status in GrantStatus))


async def _reward_or_404(reward_id: int) -> RewardOut:
    try:
        return await rewards.get_reward(reward_id)
    except NotFound:
        raise NotFoundException() from None


def _types(request: Request) -> dict[str, Any]:
    return rewards.reward_types(plugin_manager(request))


async def _offered_types(request: Request, reward: RewardOut | None) -> dict[str, Any]:
    usable = await rewards.usable_reward_types(plugin_manager(request))
    installed = _types(request)
    if reward is not None and reward.type in installed:
        usable.setdefault(reward.type, installed[reward.type])
    return usable


async def _form_page(
    request: Request,
    reward: RewardOut | None,
    form: dict[str, str],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        "console/rewards/form.html",
        context=base_context(
            request,
            reward=reward,
            form=form,
            errors=errors or {},
            # A type the shop does not use is not offered (saving one is plugin_disabled);
            # an existing reward keeps its own type in the list.
            types=await _offered_types(request, reward),
            languages=reward_forms.LANGUAGES,
            option_name=reward_forms.option_name,
        ),
        status_code=status_code,
    )


async def _save(request: Request, reward: RewardOut | None) -> Response[Any]:
    """Create (``reward`` None) or update a reward from the submitted form.

    The picture is read first, so a new upload is kept (by its key) when the form comes
    back for another mistake; every problem found is shown at once.
    """
    form = await ui.form_data(request)
    errors: dict[str, str] = {}
    image = ""
    try:
        image = await reward_forms.image_value(request, form)
    except DomainError as exc:
        errors.update(reward_forms.reward_errors(request, exc))
    try:
        values = reward_forms.reward_values(form, _types(request), display_for(request).timezone)
    except ff.FieldError as exc:  # every field with a problem (ff.FormErrors)
        errors.update(ff.messages(request, exc))
    if errors:
        return await _form_page(request, reward, form, errors, HTTP_400_BAD_REQUEST)
    values["image"] = image
    pm = plugin_manager(request)
    try:
        if reward is None:
            key = ff.create_key(form, "console-reward")  # sent twice, created once
            saved = await rewards.create_reward(RewardCreate(**values), pm, key=key)
        else:
            saved = await rewards.update_reward(reward.id, RewardUpdate(**values), pm)
    except DomainError as exc:
        errors = reward_forms.reward_errors(request, exc, values["type"], _types(request))
        return await _form_page(request, reward, form, errors, HTTP_400_BAD_REQUEST)
    name = display_for(request).text(saved.name)
    ui.flash(request, N_("Reward “%(name)s” saved."), "success", name=name)
    return Redirect("/console/rewards", status_code=303)


class RewardsController(Controller):
    path = "/console/rewards"
    include_in_schema = False
    guards = MANAGER

    @get("/")
    async def list_rewards(self, request: Request, page: PageNumber = 1) -> Template:
        page = max(1, page)
        found = await rewards.list_rewards(limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
        return Template(
            "console/rewards/list.html",
            context=base_context(
                request,
                found=found,
                page=page,
                pages=max(1, -(-found.total // PER_PAGE)),
                types=_types(request),
            ),
        )

    @get("/new")
    async def new_reward(self, request: Request, kind: FromQuery[str] = "coupon") -> Template:
        types = await _offered_types(request, None)
        kind = kind if kind in types else next(iter(types), "")
        form = {**reward_forms.blank_form(kind), "token": ff.new_token()}
        return await _form_page(request, None, form)

    @post("/", status_code=303, request_max_body_size=reward_forms.MAX_BODY_BYTES)
    async def create(self, request: Request) -> Response[Any]:
        return await _save(request, None)

    @get("/{reward_id:int}", opt=REWARD)
    async def edit(self, request: Request, reward_id: PathId) -> Template:
        reward = await _reward_or_404(reward_id)
        form = reward_forms.reward_form(reward, display_for(request).timezone)
        return await _form_page(request, reward, form)

    @post(
        "/{reward_id:int}",
        opt=REWARD,
        status_code=303,
        request_max_body_size=reward_forms.MAX_BODY_BYTES,
    )
    async def update(self, request: Request, reward_id: PathId) -> Response[Any]:
        return await _save(request, await _reward_or_404(reward_id))

    @get("/{reward_id:int}/grants", opt=REWARD)
    async def grants(
        self,
        request: Request,
        reward_id: PathId,
        status: FromQuery[str] = "all",
        page: PageNumber = 1,
    ) -> Template:
        """Who redeemed this reward, with each grant's code, status and expiry."""
        reward = await _reward_or_404(reward_id)
        status = status if status in STATUSES else "all"
        page = max(1, page)
        found = await reward_stats.reward_grants(
            reward.id,
            None if status == "all" else status,
            limit=PER_PAGE,
            offset=(page - 1) * PER_PAGE,
            locale=i18n.locale_of(request),
        )
        return Template(
            "console/rewards/grants.html",
            context=base_context(
                request,
                reward=reward,
                found=found,
                status=status,
                statuses=STATUSES,
                page=page,
                pages=max(1, -(-found.total // PER_PAGE)),
            ),
        )
