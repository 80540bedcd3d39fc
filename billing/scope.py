"""Working as one tenant in billing: the request's own, or the one a job or an admin
page names (billing's modules share it; it imports nothing of billing's)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from loyalchat.context import current_tenant_id, tenant_context


@contextlib.contextmanager
def as_tenant(tenant_id: int) -> Iterator[None]:
    """Work as ``tenant_id``: the request's own tenant, or (no tenant set: an admin page,
    a job) that tenant. A request of another tenant is refused."""
    current = current_tenant_id()
    if current == tenant_id:
        yield
    elif current is None:
        with tenant_context(tenant_id):
            yield
    else:
        raise PermissionError("billing: another tenant's payments")
