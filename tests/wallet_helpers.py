"""Shared by the wallet tests: members, a coupon, wallet paths, reading pages like a phone."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

import pytest
import zxingcpp
from litestar import Litestar
from litestar.testing import AsyncTestClient
from PIL import Image, ImageDraw

from loyalchat.context import Actor, tenant_context
from loyalchat.ledger import service as ledger
from loyalchat.members import links
from loyalchat.members import service as members
from loyalchat.members.schemas import MemberCreate, MemberOut
from loyalchat.rewards import service as rewards
from loyalchat.rewards.schemas import RewardOut
from tests.fixtures import World

STAFF = Actor("staff", 1, "Owner")


@pytest.fixture(name="client")
async def anonymous_client(app: Litestar) -> AsyncIterator[AsyncTestClient]:
    """A phone's browser, signed in as no one (the app is the suite's ``app`` fixture).
    Import ``anonymous_client`` into a test module: its tests then get it as ``client``."""
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


async def make_member(
    world: World, points: int = 0, *, name: str = "Chan Tai Man", phone: str = "91234567", **more
) -> MemberOut:
    with tenant_context(world.id, STAFF):
        member = await members.create_member(MemberCreate(name=name, phone=phone, **more))
        if points:
            await ledger.earn(member.id, points, key=f"seed:{member.id}", reason="welcome")
        return await members.get_member_by_id(member.id)


async def make_coupon(world: World, cost: int = 100, **fields) -> RewardOut:
    values = {
        "name": {"zh-Hant": "免費咖啡", "en": "Free coffee"},
        "points_cost": cost,
        "type": "coupon",
        "options": {"benefit": "免費咖啡一杯"},
        "validity_days": 30,
    }
    values.update(fields)
    with tenant_context(world.id, STAFF):
        return await rewards.create_reward(values)


def path_of(world: World, member: MemberOut) -> str:
    return links.PATH_PREFIX + links.make_token(world.id, member.id)


async def balance(world: World, member: MemberOut) -> int:
    with tenant_context(world.id, STAFF):
        return (await members.get_member_by_id(member.id)).points


def form_of(page: str, action: str) -> dict[str, str]:
    """The hidden and valued inputs of the form posting to ``action``, as a browser sends them."""
    forms = re.findall(r"<form[^>]*action=\"([^\"]+)\"[^>]*>(.*?)</form>", page, re.S)
    for target, body in forms:
        if html.unescape(target) == action:
            fields = re.findall(r"<input[^>]*name=\"([^\"]+)\"[^>]*value=\"([^\"]*)\"", body)
            return {name: html.unescape(val) for name, val in fields}
    raise AssertionError(f"no form posting to {action}")


def decode_svg_qr(svg: str) -> str:
    """Draw the inline SVG QR code's modules with Pillow and read it back with zxing-cpp."""
    root = ET.fromstring(svg)  # noqa: S314 - our own page's SVG
    width = int(float(root.get("viewBox", "").split()[2]))
    scale = 8
    image = Image.new("L", (width * scale, width * scale), 255)
    draw = ImageDraw.Draw(image)
    path = root.find("{http://www.w3.org/2000/svg}path")
    assert path is not None
    for x, y, x2, y2 in re.findall(r"M([\d.]+),([\d.]+)H([\d.]+)V([\d.]+)H[\d.]+z", path.get("d")):
        box = [float(x) * scale, float(y) * scale, float(x2) * scale - 1, float(y2) * scale - 1]
        draw.rectangle(box, fill=0)
    found = zxingcpp.read_barcodes(image)
    assert found, "the QR code did not decode"
    return found[0].text


def qr_svgs(page: str) -> list[str]:
    return re.findall(r"<svg [^>]*role=\"img\".*?</svg>", page, re.S)


def by_testid(page: str, name: str) -> list[str]:
    """The text of every element with ``data-testid=name`` (one level, tags stripped)."""
    found = re.findall(rf"data-testid=\"{name}\"[^>]*>(.*?)</", page, re.S)
    return [html.unescape(re.sub(r"<[^>]+>", "", text)).strip() for text in found]
