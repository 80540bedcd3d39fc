"""Text normalisation shared by the field extractors.

OCR output mixes full-width and half-width forms, Traditional and Simplified Chinese and
letter/digit confusions; every comparison goes through these helpers so that one rule
covers all the variants.
"""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz.distance import Levenshtein

from loyalchat.languages import to_simplified

_CJK_GAP = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")
_PUNCT_RE = re.compile(r"[\s\W_]+", re.UNICODE)


def halfwidth(text: str) -> str:
    """Full-width letters, digits and punctuation to ASCII; CJK characters unchanged."""
    # NFKC folds full-width forms and the ideographic space; it leaves CJK ideographs.
    text = unicodedata.normalize("NFKC", text)
    return text.replace("：", ":").replace("，", ",").replace("。", ".")


def fold(text: str) -> str:
    """Half-width, Simplified, upper case, single spaces: the form labels are matched in."""
    text = to_simplified(halfwidth(text)).upper()
    text = _CJK_GAP.sub("", text)  # "合 计": OCR spaces out widely printed Chinese
    return re.sub(r"\s+", " ", text).strip()


def name_key(text: str) -> str:
    """A shop name reduced to letters, digits and CJK: for fuzzy alias comparison."""
    return _PUNCT_RE.sub("", fold(text))


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf" for ch in text)


def similarity(a: str, b: str) -> float:
    """0-1 edit similarity of two strings (1 - Levenshtein distance / longer length)."""
    return Levenshtein.normalized_similarity(a, b)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance."""
    return Levenshtein.distance(a, b)
