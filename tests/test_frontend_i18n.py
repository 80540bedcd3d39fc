"""Catalogues and language negotiation (loyalchat.i18n), and the HTML frontend's redirect and
template checks (no database)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from loyalchat import i18n
from loyalchat.frontend import ui

FRONTEND = Path(ui.__file__).parent
LOCALE = i18n.LOCALE_DIR
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


@pytest.fixture(autouse=True)
def clean_db() -> None:
    """These tests need no database (overrides the shared autouse fixture)."""


def _catalog(code: str):
    with (LOCALE / code / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=code)


@pytest.mark.parametrize("code", ["zh_Hant", "zh_Hans", "en"])
def test_every_ui_string_is_translated_with_the_same_placeholders(code: str) -> None:
    with (LOCALE / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    catalog = _catalog(code)
    for message in template:
        if not message.id:
            continue
        translated = catalog.get(message.id)
        assert translated is not None, f"{code}: missing {message.id!r}"
        strings = (
            translated.string if isinstance(translated.string, tuple) else (translated.string,)
        )
        source = message.id if isinstance(message.id, str) else message.id[0]
        for string in strings:
            assert string, f"{code}: untranslated {source!r}"
            assert sorted(PLACEHOLDER.findall(string)) == sorted(PLACEHOLDER.findall(source))
            assert "fuzzy" not in translated.flags, f"{code}: fuzzy {source!r}"


def test_catalogue_template_is_up_to_date(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``pybabel extract`` finds no UI string that the committed template lacks."""
    fresh = tmp_path / "messages.pot"
    args = ["pybabel", "-q", "extract", "-F", "babel.cfg", "-k", "N_", "-o", str(fresh)]
    monkeypatch.chdir(FRONTEND)
    inputs = [".", "../platform", "../plugins"]  # the same as the command in babel.cfg
    CommandLineInterface().run([*args, "--no-location", "--sort-output", *inputs])
    with fresh.open("rb") as handle:
        found = {m.id for m in read_po(handle) if m.id}
    with (LOCALE / "messages.pot").open("rb") as handle:
        committed = {m.id for m in read_po(handle) if m.id}
    assert found - committed == set(), "run the pybabel commands in frontend/babel.cfg"


def test_translations_compile_in_memory() -> None:
    assert i18n.translations("zh-Hant").gettext("Sign in") == "登入"
    assert i18n.translations("zh-Hans").gettext("Sign in") == "登录"
    assert i18n.translations("en").gettext("Sign in") == "Sign in"
    assert not list(LOCALE.glob("**/*.mo")), "catalogues are compiled at run time"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("en-GB,en;q=0.8", "en"),
        ("zh-HK", "zh-Hant"),
        ("zh-MO", "zh-Hant"),
        ("zh-TW,zh;q=0.9", "zh-Hant"),
        ("zh-Hant-HK", "zh-Hant"),
        ("zh-CN", "zh-Hans"),
        ("zh-SG", "zh-Hans"),
        ("zh", "zh-Hans"),
        ("de-DE,fr;q=0.9", "en"),
        ("en;q=0.2,zh-HK;q=0.9", "zh-Hant"),
        ("zh-HK;q=0,zh-CN;q=0.5", "zh-Hans"),
        ("*", "en"),
    ],
)
def test_accept_language_negotiation(header: str | None, expected: str) -> None:
    assert i18n.negotiate(header) == expected


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/console/audit?x=1", "/console/audit?x=1"),
        ("/", "/"),
        (None, "/d"),
        ("", "/d"),
        ("console", "/d"),
        ("//evil.example", "/d"),
        ("/\\evil.example", "/d"),
        ("https://evil.example/", "/d"),
        ("/ok\r\nSet-Cookie: x=1", "/d"),
        ("javascript:alert(1)", "/d"),
    ],
)
def test_safe_next(target: str | None, expected: str) -> None:
    assert ui.safe_next(target, "/d") == expected


def test_no_cdn_links_in_templates() -> None:
    for template in (FRONTEND / "templates").rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text), template
