"""The embedded outbox (/admin/outbox): the mails a development platform would have sent.

Platform admins only, and only in embedded mail mode: with ``LOYALCHAT_SMTP_URL`` set the
mails went out and there is nothing here (404).
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.params import PathParameter
from litestar.response import Template

from loyalchat import mail
from loyalchat.settings import get_settings
from loyalchat.tenants.auth import platform_admin_required

PLATFORM = {"platform_admin": True}
MailName = Annotated[str, PathParameter(max_length=64)]


def _embedded_only() -> None:
    if get_settings().smtp_url:
        raise NotFoundException()


class AdminOutboxController(Controller):
    path = "/admin/outbox"
    include_in_schema = False
    guards = (platform_admin_required,)

    @get("/", opt=PLATFORM)
    async def list_mails(self, request: Request) -> Template:
        _embedded_only()
        return Template(
            "admin/outbox.html",
            context={"mails": mail.outbox_messages(), "folder": str(mail.outbox_dir())},
        )

    @get("/{name:str}", opt=PLATFORM)
    async def read_mail(self, request: Request, name: MailName) -> Template:
        _embedded_only()
        found = mail.read_outbox_message(name)
        if found is None:
            raise NotFoundException()
        return Template(
            "admin/outbox_message.html",
            context={"mail": found},
            headers={"cache-control": "no-store"},
        )
