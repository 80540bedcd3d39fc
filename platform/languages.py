"""The programme's three languages, and Chinese script conversion between them.

Hong Kong Traditional (zh-Hant), Simplified (zh-Hans) and English. OpenCC converts
between the two Chinese scripts with Hong Kong variants (``hk2s`` / ``s2hk``); its
converters are immutable after construction and safe to share across threads.
"""

from __future__ import annotations

import functools

import opencc

LOCALES = ("zh-Hant", "zh-Hans", "en")


@functools.cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def to_traditional(text: str) -> str:
    """Simplified -> Hong Kong Traditional (Latin text and digits unchanged)."""
    return _converter("s2hk").convert(text)


def to_simplified(text: str) -> str:
    """Traditional (Hong Kong variants included) -> Simplified."""
    return _converter("hk2s").convert(text)
