"""What the JSON API shows of rewards and grants, with the OpenAPI examples.

Inputs are the service's ``RewardCreate`` / ``RewardUpdate``; a redemption takes a
``RedemptionCreate``. Texts (``name``, ``description``) are ``{zh-Hant, zh-Hans, en}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar.openapi.spec import Example

from loyalchat.bounds import INT32_MAX
from loyalchat.rewards.schemas import GrantOut, RewardOut

_TEXTS = msgspec.Meta(
    description="By language: zh-Hant, zh-Hans, en.",
    examples=[{"zh-Hant": "免費咖啡", "zh-Hans": "免费咖啡", "en": "Free coffee"}],
)


class Reward(msgspec.Struct, kw_only=True):
    """An entry of the rewards catalogue."""

    id: int
    name: Annotated[dict[str, str], _TEXTS]
    description: dict[str, str]
    image: Annotated[
        str,
        msgspec.Meta(
            description='The picture\'s media key (its sha256), or "" for none.',
            examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
        ),
    ]
    image_url: Annotated[
        str | None,
        msgspec.Meta(
            description="Where to fetch the picture (JPEG) with this API key; null: none.",
            examples=["/api/v1/rewards/7/image"],
        ),
    ] = None
    points_cost: Annotated[int, msgspec.Meta(examples=[500])]
    type: Annotated[
        str, msgspec.Meta(description="The reward type (a plugin).", examples=["coupon"])
    ]
    options: Annotated[
        dict[str, Any],
        msgspec.Meta(
            description="The reward type's options; a text option (a coupon's benefit and "
            "terms) is {zh-Hant, zh-Hans, en}.",
            examples=[
                {"benefit": {"zh-Hant": "免費咖啡", "zh-Hans": "免费咖啡", "en": "Free coffee"}}
            ],
        ),
    ]
    stock: Annotated[
        int | None, msgspec.Meta(description="Units left; null: unlimited.", examples=[20])
    ]
    per_member_limit: int | None
    starts_at: datetime | None
    ends_at: datetime | None
    validity_days: Annotated[
        int | None,
        msgspec.Meta(description="How long a grant stays valid; null: no expiry.", examples=[30]),
    ]
    active: bool
    position: int
    created_at: datetime
    updated_at: datetime


def image_path(reward_id: int) -> str:
    """The API route that serves a reward's picture."""
    return f"/api/v1/rewards/{reward_id}/image"


def reward_json(reward: RewardOut) -> Reward:
    fields = msgspec.structs.asdict(reward)
    fields["image_url"] = image_path(reward.id) if reward.image else None
    return msgspec.convert(fields, Reward)


class RedemptionCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Exchange the member's points for a reward."""

    reward_id: Annotated[int, msgspec.Meta(ge=1, le=INT32_MAX, examples=[7])]


class Grant(msgspec.Struct, kw_only=True):
    """What a member holds after redeeming: a code the cashier checks."""

    code: Annotated[
        str, msgspec.Meta(description="Typed or scanned at the till.", examples=["7KQ4M2XP"])
    ]
    status: Annotated[
        str,
        msgspec.Meta(description='"issued", "used", "expired" or "void".', examples=["issued"]),
    ]
    expires_at: datetime | None
    reward_id: int
    reward_name: Annotated[dict[str, str], _TEXTS]
    reward_type: Annotated[str, msgspec.Meta(examples=["coupon"])]
    member_no: Annotated[str, msgspec.Meta(examples=["M000123"])]
    points_cost: Annotated[int, msgspec.Meta(examples=[500])]
    issued_at: datetime
    used_at: datetime | None
    used_by_label: str
    description: Annotated[
        str,
        msgspec.Meta(
            description="One line in the caller's language.", examples=["Coupon: Free coffee"]
        ),
    ]
    qr_payload: Annotated[
        str,
        msgspec.Meta(description="What the coupon's QR code encodes.", examples=["LCG:7KQ4M2XP"]),
    ]
    data: dict[str, Any]
    replayed: bool = False


def grant_json(grant: GrantOut, member_no: str) -> Grant:
    return Grant(
        code=grant.code,
        status=grant.status,
        expires_at=grant.expires_at,
        reward_id=grant.reward_id,
        reward_name=grant.reward_name,
        reward_type=grant.reward_type,
        member_no=member_no,
        points_cost=grant.points_cost,
        issued_at=grant.issued_at,
        used_at=grant.used_at,
        used_by_label=grant.used_by_label,
        description=grant.description,
        qr_payload=grant.qr_payload,
        data=grant.data,
        replayed=grant.replayed,
    )


CREATE_EXAMPLES = [
    Example(
        summary="A coupon for 500 points, 20 in stock, valid 30 days",
        value={
            "name": {"zh-Hant": "免費咖啡", "zh-Hans": "免费咖啡", "en": "Free coffee"},
            "points_cost": 500,
            "type": "coupon",
            "options": {"benefit": {"zh-Hant": "免費咖啡一杯", "en": "One free coffee"}},
            "stock": 20,
            "validity_days": 30,
        },
    ),
    Example(
        summary="HK$50 stored value for 1,000 points",
        value={
            "name": "HK$50 stored value",
            "points_cost": 1000,
            "type": "stored_value",
            "options": {"amount": "50.00"},
        },
    ),
]
UPDATE_EXAMPLES = [
    Example(summary="Restock", value={"stock": 50}),
    Example(summary="Take off the catalogue", value={"active": False}),
]
REDEEM_EXAMPLES = [Example(summary="Redeem reward 7", value={"reward_id": 7})]
