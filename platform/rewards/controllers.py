"""JSON API for the rewards catalogue, redemptions and grants. Thin: the rewards service rules.

Redeeming hands the service the request's idempotency key (``Idempotency-Key``) when
sent, so a retried redemption returns the first grant instead of a second one.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import pluggy
from litestar import Controller, Request, Response, get, patch, post
from litestar.pagination import OffsetPagination
from litestar.params import Body, FromPath, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from loyalchat.api_errors import (
    FORBIDDEN,
    IDEMPOTENCY_ERRORS,
    NOT_FOUND,
    error_responses,
    replayed_response,
)
from loyalchat.api_pages import offset_page
from loyalchat.bounds import Offset, PathId
from loyalchat.domain import NotFound
from loyalchat.idempotency.middleware import IDEMPOTENCY_DEPENDENCIES, REPLAY_HEADERS, ServiceKey
from loyalchat.media.responses import REVALIDATE, media_response
from loyalchat.members import service as members
from loyalchat.members.controllers import (
    MAX_PAGE,
    MEMBER,
    MEMBER_DEPENDENCIES,
    PathMember,
    load_member,
)
from loyalchat.rewards import service as rewards
from loyalchat.rewards.api_schemas import (
    CREATE_EXAMPLES,
    REDEEM_EXAMPLES,
    UPDATE_EXAMPLES,
    Grant,
    RedemptionCreate,
    Reward,
    grant_json,
    reward_json,
)
from loyalchat.rewards.schemas import GrantOut, RewardCreate, RewardUpdate
from loyalchat.tenants.auth import api_key_required
from loyalchat.tenants.tables import Role

REWARD = {"tenant_object": "reward"}
GRANT = {"tenant_object": "grant"}
REWARD_INVALID = (
    (422, "invalid_reward", {"errors": {"points_cost": "a whole number from 1"}}),
    (422, "unknown_reward_type", {"kind": "voucher"}),
    (422, "plugin_disabled", {"kind": "stored_value", "plugin": "stored_value"}),
)


def _plugins(request: Request) -> pluggy.PluginManager:
    return request.app.state.plugins


async def _with_member_no(grant: GrantOut) -> Grant:
    return grant_json(grant, (await members.get_member_by_id(grant.member_id)).member_no)


class RewardApiController(Controller):
    path = "/api/v1/rewards"
    tags = ("rewards",)
    security = ({"apiKey": []},)
    dependencies = IDEMPOTENCY_DEPENDENCIES

    @get("/", guards=[api_key_required(Role.cashier)], responses=error_responses())
    async def list_rewards(
        self,
        active_only: Annotated[
            bool, QueryParameter(description="Only rewards on offer (active).")
        ] = False,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 50,
        offset: Offset = 0,
    ) -> OffsetPagination[Reward]:
        """The catalogue in display order."""
        page = await rewards.list_rewards(active_only=active_only, limit=limit, offset=offset)
        return offset_page(page, reward_json)

    @post(
        "/",
        response_headers=REPLAY_HEADERS,
        guards=[api_key_required(Role.manager)],
        responses=error_responses(FORBIDDEN, *REWARD_INVALID, *IDEMPOTENCY_ERRORS),
    )
    async def create_reward(
        self,
        request: Request,
        data: Annotated[RewardCreate, Body(examples=CREATE_EXAMPLES)],
        service_key: ServiceKey,  # the middleware replays; the service creates once
    ) -> Reward:
        """Add a reward to the catalogue (manager role)."""
        reward = await rewards.create_reward(data, pm=_plugins(request), key=service_key)
        return reward_json(reward)

    @get(
        "/{reward_id:int}",
        guards=[api_key_required(Role.cashier)],
        opt=REWARD,
        responses=error_responses(NOT_FOUND),
    )
    async def get_reward(self, reward_id: PathId) -> Reward:
        return reward_json(await rewards.get_reward(reward_id))

    @get(
        "/{reward_id:int}/image",
        guards=[api_key_required(Role.cashier)],
        opt=REWARD,
        media_type="image/jpeg",
        responses=error_responses(NOT_FOUND),
    )
    async def get_reward_image(self, request: Request, reward_id: PathId) -> Response[bytes]:
        """The reward's picture (JPEG); 404 ``not_found`` when it has none.

        Answers ``ETag`` (the picture's key) and ``Cache-Control: private, no-cache``:
        send ``If-None-Match`` to get a 304 while the picture is unchanged.
        """
        reward = await rewards.get_reward(reward_id)
        if not reward.image:
            raise NotFound("this reward has no picture", reward_id=reward_id)
        return await media_response(request, reward.image, cache_control=REVALIDATE)

    @patch(
        "/{reward_id:int}",
        guards=[api_key_required(Role.manager)],
        opt=REWARD,
        responses=error_responses(NOT_FOUND, FORBIDDEN, *REWARD_INVALID),
    )
    async def update_reward(
        self,
        request: Request,
        reward_id: PathId,
        data: Annotated[RewardUpdate, Body(examples=UPDATE_EXAMPLES)],
    ) -> Reward:
        """Change the fields given (manager role); leave a field out to keep it."""
        return reward_json(await rewards.update_reward(reward_id, data, pm=_plugins(request)))


class MemberRedemptionApiController(Controller):
    path = "/api/v1/members/{member_no:str}"
    tags = ("rewards",)
    security = ({"apiKey": []},)
    before_request = load_member
    dependencies = MEMBER_DEPENDENCIES
    opt = MEMBER

    @post(
        "/redemptions",
        response_headers=REPLAY_HEADERS,
        guards=[api_key_required(Role.cashier)],
        responses={
            **error_responses(
                NOT_FOUND,
                (409, "insufficient_points", {"balance": 120, "needed": 500}),
                (409, "out_of_stock"),
                (409, "limit_reached", {"limit": 1}),
                (409, "reward_unavailable"),
                *IDEMPOTENCY_ERRORS,
            ),
            **replayed_response(Grant),
        },
    )
    async def redeem(
        self,
        request: Request,
        member: PathMember,
        service_key: ServiceKey,
        data: Annotated[RedemptionCreate, Body(examples=REDEEM_EXAMPLES)],
    ) -> Response[Grant]:
        """Exchange the member's points for a reward: points deducted, grant issued, at once."""
        grant = await rewards.redeem(
            member.id,
            data.reward_id,
            key=service_key or f"redemption:{uuid.uuid4().hex}",
            pm=_plugins(request),
        )
        return Response(
            grant_json(grant, member.member_no),
            status_code=HTTP_200_OK if grant.replayed else HTTP_201_CREATED,
        )


class GrantApiController(Controller):
    path = "/api/v1/grants"
    tags = ("rewards",)
    security = ({"apiKey": []},)
    dependencies = IDEMPOTENCY_DEPENDENCIES
    opt = GRANT

    @get(
        "/{code:str}",
        guards=[api_key_required(Role.cashier)],
        responses=error_responses(NOT_FOUND),
    )
    async def get_grant(self, code: FromPath[str]) -> Grant:
        """A grant by its code, as typed or scanned (any case, spaces and dashes)."""
        return await _with_member_no(await rewards.get_grant(code))

    @post(
        "/{code:str}/use",
        response_headers=REPLAY_HEADERS,
        guards=[api_key_required(Role.cashier)],
        status_code=HTTP_200_OK,
        responses=error_responses(
            NOT_FOUND,
            (
                409,
                "already_used",
                {"used_at": "2026-05-12T14:03:00+08:00", "used_by_label": "Till 2"},
            ),
            (409, "grant_expired"),
            (409, "grant_void"),
            *IDEMPOTENCY_ERRORS,
        ),
    )
    async def use_grant(
        self,
        request: Request,
        code: FromPath[str],
        service_key: ServiceKey,  # documents Idempotency-Key; the middleware replays
    ) -> Grant:
        """Mark the grant used at the till; exactly one of two simultaneous scans wins."""
        return await _with_member_no(await rewards.use_grant(code, pm=_plugins(request)))
