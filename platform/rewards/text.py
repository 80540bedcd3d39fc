"""Shop texts in three languages: :mod:`loyalchat.texts`, re-exported for the rewards
domain and the callers that import it from here."""

from __future__ import annotations

from loyalchat.texts import (
    DEFAULT_LOCALE,
    clean,
    filled,
    in_script,
    is_blank,
    language_of,
    normalize_locale,
    pick,
)

__all__ = [
    "DEFAULT_LOCALE",
    "clean",
    "filled",
    "in_script",
    "is_blank",
    "language_of",
    "normalize_locale",
    "pick",
]
