"""The rewards catalogue: what members can redeem points for. The only writer of ``reward``.

Re-exported by :mod:`loyalchat.rewards.service`, which callers use.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec
import pluggy

from loyalchat import db
from loyalchat.bounds import (
    DATE_RANGE_TEXT,
    INT32_MAX,
    INT32_MIN,
    in_date_range,
    stored_moment,
)
from loyalchat.domain import DomainError, NotFound, Page
from loyalchat.extensions.rewards import RewardError, RewardType, get_reward_types
from loyalchat.idempotency.creating import create_once
from loyalchat.media import store as media
from loyalchat.pluginmanager import current_plugin_manager
from loyalchat.rewards import text
from loyalchat.rewards.schemas import (
    MAX_POINTS_COST,
    MAX_VALIDITY_DAYS,
    RewardCreate,
    RewardOut,
    RewardUpdate,
)
from loyalchat.rewards.tables import Reward
from loyalchat.scoping import (
    new_row,
    save_row,
    scoped_count,
    scoped_raw,
    scoped_select,
    scoped_update,
)
from loyalchat.tenants import audit, plugin_access

MAX_LIMIT = 200
_COLUMNS = tuple(RewardOut.__struct_fields__)


class InvalidReward(DomainError):
    """The reward as given cannot be saved; ``extra["errors"]`` maps field -> problem."""

    code = "invalid_reward"


class UnknownRewardType(DomainError):
    code = "unknown_reward_type"


def reward_types(pm: pluggy.PluginManager | None = None) -> dict[str, RewardType]:
    """Registered reward types by kind (``coupon``, ``stored_value``...), whether or not
    the tenant uses them (see :func:`usable_reward_types`)."""
    return dict(get_reward_types(pm or current_plugin_manager()))


def reward_type(kind: str, pm: pluggy.PluginManager | None = None) -> RewardType:
    """The reward type for ``kind``; :class:`UnknownRewardType` when no plugin registers it."""
    found = get_reward_types(pm or current_plugin_manager()).get(kind)
    if found is None:
        raise UnknownRewardType(f"no reward type {kind!r} is installed", kind=kind)
    return found


async def usable_reward_types(pm: pluggy.PluginManager | None = None) -> dict[str, RewardType]:
    """The reward types the current tenant may create and redeem (offered and enabled)."""
    return await plugin_access.reward_types(pm or current_plugin_manager())


async def usable_reward_type(kind: str, pm: pluggy.PluginManager | None = None) -> RewardType:
    """The reward type for ``kind`` when the current tenant may use it:
    :class:`UnknownRewardType` when none is installed, ``plugin_disabled``
    (:class:`~loyalchat.tenants.plugin_access.PluginDisabled`) when its plugin is off."""
    pm = pm or current_plugin_manager()
    found = reward_type(kind, pm)
    await plugin_access.require_reward_type(kind, pm)
    return found


def display_name(reward: RewardOut | Mapping[str, Any], locale: str | None) -> str:
    """The reward's name in ``locale``, falling back sensibly (see :func:`text.pick`)."""
    names = reward.name if isinstance(reward, RewardOut) else reward.get("name")
    return text.pick(names, locale)


def to_out(row: Mapping[str, Any]) -> RewardOut:
    values = {name: row[name] for name in _COLUMNS}
    for name in ("starts_at", "ends_at"):  # an infinity stored before the range was enforced
        values[name] = stored_moment(values[name])
    return RewardOut(**values)


async def list_rewards(
    active_only: bool = False,
    available_at: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
    pm: pluggy.PluginManager | None = None,
) -> Page[RewardOut]:
    """The catalogue in display order (``position``, then oldest first).

    ``available_at`` keeps the rewards a member could pick at that moment: active, inside
    their window and of a type the shop uses now (sold-out ones stay listed, so the wallet
    can say "sold out"; a type turned off would only be refused at redemption).
    """
    limit = max(1, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    where = []
    if active_only or available_at is not None:
        where.append(Reward.active == True)  # noqa: E712 - Piccolo builds SQL from it
    if available_at is not None:
        at = _utc(available_at)
        where.append(Reward.starts_at.is_null() | (Reward.starts_at <= at))
        where.append(Reward.ends_at.is_null() | (Reward.ends_at > at))
        usable = sorted(await usable_reward_types(pm))
        if not usable:
            return Page(items=[], total=0, limit=limit, offset=offset)
        where.append(Reward.type.is_in(usable))
    query = scoped_select(Reward, *[getattr(Reward, name) for name in _COLUMNS])
    count = scoped_count(Reward)
    for clause in where:
        query = query.where(clause)
        count = count.where(clause)
    rows = await (
        query.order_by(Reward.position)
        .order_by(Reward.id)
        .limit(limit)
        .offset(offset)
        .output(load_json=True)
    )
    return Page(items=[to_out(row) for row in rows], total=await count, limit=limit, offset=offset)


# One plain statement: every redemption reads its reward, and building the select is
# most of what reading it costs.
_QUOTED_COLUMNS = ", ".join(f'"{name}"' for name in _COLUMNS)
_GET_REWARD = (
    f"SELECT {_QUOTED_COLUMNS} FROM reward "  # noqa: S608 (column names from RewardOut)
    "WHERE tenant = {tenant} AND id = {}"
)
_JSON_COLUMNS = ("name", "description", "options")


async def get_reward(reward_id: int) -> RewardOut:
    """One reward of the current tenant; :class:`NotFound` otherwise."""
    rows = await scoped_raw(Reward, _GET_REWARD, reward_id)
    if not rows:
        raise NotFound("no such reward", reward_id=reward_id)
    row = dict(rows[0])
    for name in _JSON_COLUMNS:
        if isinstance(row[name], str):
            row[name] = json.loads(row[name])
    return to_out(row)


async def create_reward(
    data: RewardCreate | Mapping[str, Any],
    pm: pluggy.PluginManager | None = None,
    *,
    key: str | None = None,
) -> RewardOut:
    """Add a reward to the catalogue (``invalid_reward``, ``unknown_reward_type``).

    With ``key`` (the API request's service key, a console form token) the reward is
    added once: a repeat, even a concurrent one, returns the first reward.
    """
    given = _convert(data, RewardCreate)
    values = await _validated(msgspec.structs.asdict(given), pm, new_image=given.image)

    async def create() -> RewardOut:
        async with db.write_transaction():
            row = await save_row(new_row(Reward, **values, idempotency_key=key))
            reward = await get_reward(row.id)
            await audit.record("reward.create", f"reward:{reward.id}", after=_audited(reward))
        return reward

    reward, _ = await create_once(key, _created_with, create)
    return reward


async def _created_with(key: str) -> RewardOut | None:
    row = await scoped_select(Reward, Reward.id).where(Reward.idempotency_key == key).first()
    return await get_reward(row["id"]) if row else None


async def update_reward(
    reward_id: int,
    data: RewardUpdate | Mapping[str, Any],
    pm: pluggy.PluginManager | None = None,
) -> RewardOut:
    """Change some fields of a reward; the result is validated as a whole."""
    given = _convert(data, RewardUpdate)
    before = await get_reward(reward_id)
    merged = {name: getattr(before, name) for name in RewardCreate.__struct_fields__}
    merged.update(given.changes())
    if "type" in given.changes() and "options" not in given.changes():
        if given.changes()["type"] != before.type:
            merged["options"] = {}  # the old type's options mean nothing to the new one
    image = given.changes().get("image", before.image)
    values = await _validated(merged, pm, new_image=image if image != before.image else "")
    values["updated_at"] = datetime.now(UTC)
    await scoped_update(Reward, {getattr(Reward, key): val for key, val in values.items()}).where(
        Reward.id == reward_id
    )
    after = await get_reward(reward_id)
    await audit.record(
        "reward.update", f"reward:{reward_id}", before=_audited(before), after=_audited(after)
    )
    return after


def _convert(data: Any, kind: type) -> Any:
    if isinstance(data, kind):
        return data
    try:
        return msgspec.convert(dict(data), kind, strict=False)
    except (msgspec.ValidationError, TypeError, ValueError) as exc:
        # msgspec names the field: "... - at `$.name`" (or `$.name[...]`).
        found = re.search(r"`\$\.(\w+)", str(exc))
        field = found.group(1) if found else ""
        raise InvalidReward(f"invalid reward: {exc}", errors={field: str(exc)}) from exc


async def _validated(
    values: dict[str, Any], pm: pluggy.PluginManager | None, *, new_image: str = ""
) -> dict[str, Any]:
    """The columns to store, or :class:`InvalidReward` listing every problem.

    ``new_image``: a picture being set, which must be a file of this tenant's media store
    (a picture already on the reward is not checked again).
    """
    errors: dict[str, str] = {}
    out = dict(values)
    for field in ("name", "description"):
        try:
            out[field] = text.clean(values.get(field) or {})
        except ValueError as exc:
            errors[field] = str(exc)
    if "name" not in errors and not any(out["name"].values()):
        errors["name"] = "give the name in at least one language"
    if not isinstance(values.get("image"), str) or len(values["image"]) > 255:
        errors["image"] = "a media key of at most 255 characters, or empty"
    elif new_image and not await media.exists(new_image):
        errors["image"] = "not a picture stored for this shop"
    # The bounds the API's schema states (rewards.schemas): columns are 32-bit integers.
    _check_int(errors, values, "points_cost", 1, MAX_POINTS_COST, nullable=False)
    _check_int(errors, values, "stock", 0, INT32_MAX)
    _check_int(errors, values, "per_member_limit", 1, INT32_MAX)
    _check_int(errors, values, "validity_days", 1, MAX_VALIDITY_DAYS)
    _check_int(errors, values, "position", INT32_MIN, INT32_MAX, nullable=False)
    for field in ("starts_at", "ends_at"):
        when = values.get(field)
        if when is not None and when.tzinfo is None:
            errors[field] = "needs a time zone"
        elif when is not None and not in_date_range(when):
            # Checked in the zone given, before moving to UTC (which overflows at year 1).
            errors[field] = f"must be {DATE_RANGE_TEXT}"
        elif when is not None:
            out[field] = when.astimezone(UTC)
    if not errors.get("starts_at") and not errors.get("ends_at"):
        if out.get("starts_at") and out.get("ends_at") and out["ends_at"] <= out["starts_at"]:
            errors["ends_at"] = "must be after the start"
    kind = values.get("type") or ""
    try:
        rtype = await usable_reward_type(kind, pm)
    except (UnknownRewardType, plugin_access.PluginDisabled) as exc:
        if errors:  # report the unknown or disabled type along with the rest
            errors["type"] = str(exc)
            raise InvalidReward(_summary(errors), errors=errors) from None
        raise
    try:
        out["options"] = _options(rtype, values.get("options") or {})
    except (ValueError, RewardError) as exc:
        errors["options"] = str(exc)
    if errors:
        raise InvalidReward(_summary(errors), errors=errors)
    return out


async def image_in_catalogue(key: str) -> bool:
    """Whether a reward of the current tenant shows the picture ``key`` (the member
    wallet serves these pictures only, not the tenant's other media)."""
    if not media.is_key(key):
        return False
    return await scoped_count(Reward).where(Reward.image == key) > 0


def _check_int(
    errors: dict[str, str],
    values: dict[str, Any],
    field: str,
    minimum: int,
    maximum: int,
    *,
    nullable: bool = True,
) -> None:
    value = values.get(field)
    if value is None and nullable:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        errors[field] = "must be a whole number"
    elif not minimum <= value <= maximum:
        errors[field] = f"must be a whole number from {minimum:,} to {maximum:,}"


# Option texts are one line: no control character (NUL cannot even be stored).
_CONTROL = frozenset(map(chr, [*range(32), 127]))
MAX_OPTION_TEXT = 500  # each language of a text option (a coupon's terms)


def _options(rtype: RewardType, given: Mapping[str, Any]) -> dict[str, Any]:
    """The reward type's options: declared fields only, texts, required ones filled in.

    Then the type's ``validate_options(options)`` applies its own rules (the stored-value
    amount must be a positive sum of money); it raises ``ValueError`` or ``RewardError``.
    """
    fields = {field.name: field for field in rtype.option_fields}
    unknown = sorted(set(given) - set(fields))
    if unknown:
        raise ValueError(f"unknown option {', '.join(unknown)}")
    options: dict[str, Any] = {}
    for name, field in fields.items():
        value = given.get(name, "")
        if value is None:
            value = ""
        if field.localized:
            options[name] = _localized_option(field, value)
            continue
        if not isinstance(value, (str, int, Decimal)) or isinstance(value, bool):
            raise ValueError(f"{name}: expected a text")
        value = str(value).strip()
        if any(char in value for char in _CONTROL):
            raise ValueError(f"{name}: control characters are not allowed")
        if field.required and not value:
            raise ValueError(f"{field.label}: required")
        options[name] = value
    return dict(rtype.validate_options(options))


def _localized_option(field: Any, value: Any) -> dict[str, str]:
    """A text option in the three languages (a plain string counts as one language)."""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        value = str(value)
    try:
        texts = text.clean(value, max_length=MAX_OPTION_TEXT)
    except ValueError as exc:
        raise ValueError(f"{field.name}: {exc}") from None
    if any(char in texts[locale] for locale in texts for char in _CONTROL):
        raise ValueError(f"{field.name}: control characters are not allowed")
    if field.required and text.is_blank(texts):
        raise ValueError(f"{field.label}: required")
    return texts


def _summary(errors: Mapping[str, str]) -> str:
    return "invalid reward: " + "; ".join(f"{key}: {val}" for key, val in errors.items())


def _audited(reward: RewardOut) -> dict[str, Any]:
    return {
        "name": text.pick(reward.name, "en"),
        "type": reward.type,
        "image": reward.image,
        "points_cost": reward.points_cost,
        "stock": reward.stock,
        "per_member_limit": reward.per_member_limit,
        "active": reward.active,
        "options": reward.options,
    }


def _utc(when: datetime) -> datetime:
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
