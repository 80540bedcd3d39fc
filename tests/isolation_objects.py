"""Objects the isolation harness plants in tenant B, by the ``tenant_object`` a route declares.

A route that takes a tenant-owned id in its path sets ``opt={"tenant_object": "<kind>"}``;
add a factory here for each new kind (the harness fails for a kind it cannot make).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from loyalchat.context import Actor, tenant_context
from loyalchat.tenants import apikeys
from loyalchat.tenants.tables import Role

Factory = Callable[[int], Awaitable[int]]


async def _api_key(tenant_id: int) -> int:
    with tenant_context(tenant_id, Actor("system")):
        return (await apikeys.create_key("planted by harness", Role.cashier)).id


FACTORIES: dict[str, Factory] = {
    "api_key": _api_key,
}
