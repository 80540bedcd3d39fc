"""A test plugin that ships a page: a route, a template folder and a static folder."""

from __future__ import annotations

from litestar import get
from litestar.response import Template

from loyalchat.hookimpl import hookimpl


@get("/hello-plugin", opt={"isolation": "public"}, include_in_schema=False)
async def hello() -> Template:
    return Template("assetplugin/hello.html", context={"who": "plugin"})


@hookimpl
def register_routes() -> list:
    return [hello]
