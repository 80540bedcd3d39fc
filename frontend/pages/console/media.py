"""Media files for the console: the signed-in staff member's shop's files, by key.

The tenant comes from the session (the principal middleware), so a key of another shop is
simply not in the store that is read: 404, like a key that is not a key at all. The member
wallet serves the catalogue's pictures itself (``/w/<token>/media/<key>``,
``pages/wallet/controller.py``).
"""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

from loyalchat.media.responses import media_response
from loyalchat.media.store import MediaNotFound
from loyalchat.tenants.auth import role_required
from loyalchat.tenants.tables import Role

MEDIA = {"tenant_object": "media"}


@get(
    "/console/media/{key:str}",
    guards=[role_required(Role.cashier)],
    opt=MEDIA,
    include_in_schema=False,
)
async def console_media(request: Request, key: FromPath[str]) -> Response[bytes]:
    """One of the shop's files (a reward picture...), cached privately by the browser."""
    try:
        return await media_response(request, key)
    except MediaNotFound:
        raise NotFoundException() from None
