"""The print files' font: found by face name in the installed Noto CJK collection, and a
clear refusal, naming the package, when the system has no CJK font."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from loyalchat.qrkit import fonts


@pytest.fixture(autouse=True)
def fresh_lookup() -> Iterator[None]:
    fonts.cjk_font.cache_clear()
    yield
    fonts.cjk_font.cache_clear()


def test_each_chinese_script_gets_its_own_face() -> None:
    assert fonts.cjk_font("zh-Hant").name == "Noto Sans CJK HK"
    assert fonts.cjk_font("en").name == "Noto Sans CJK HK"  # English shops print Traditional
    assert fonts.cjk_font("zh-Hans").name == "Noto Sans CJK SC"
    assert fonts.cjk_font("zh-Hans", bold=True).name == "Noto Sans CJK SC Bold"


def test_no_cjk_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(fonts.ENV_FONT, raising=False)
    monkeypatch.setattr(fonts, "CANDIDATES", (("/nonexistent/NotoSansCJK-{weight}.ttc", {}),))
    with pytest.raises(fonts.FontMissing, match="fonts-noto-cjk"):
        fonts.cjk_font("zh-Hant")
    monkeypatch.setenv(fonts.ENV_FONT, "/nonexistent/font.otf")
    with pytest.raises(fonts.FontMissing, match="no such font file"):
        fonts.cjk_font("zh-Hant")
