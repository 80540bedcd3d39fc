"""The shop's name, from the lines printed above the items.

A receipt header mixes the name with its address, phone, tax registration and words
like "TAX INVOICE". Those are skipped; what is left are candidate name lines, best first.
With a tenant profile, a line that matches one of its aliases wins.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from loyalchat.receipts.reading.parse.rows import Row
from loyalchat.receipts.reading.parse.text import fold, has_cjk, name_key, similarity

_NOISE = re.compile(
    r"TAX\s?INVOICE|INVOICE|RECEIPT|OFFICIAL|CASH\s?BILL|SIMPLIFIED|COPY|WELCOME|THANK|"
    r"(?<![A-Z])(?:GST|SST|VAT|TIN|BRN|ROC|CO\.?\s?REG|COMPANY\s?REG|REG\.?\s?NO|BR\s?NO|ID)(?![A-Z])|"
    r"TEL|PHONE|FAX|MOBILE|HOTLINE|WHATSAPP|E-?MAIL|WWW\.|HTTP|\.COM|@|"
    r"(?<![A-Z])(?:JALAN|JLN|TAMAN|LOT|NO\.|BLOCK|BLK|FLOOR|UNIT|SHOP|ROAD|RD\.?|STREET|ST\.|AVENUE|"
    r"BUILDING|BLDG|PLAZA|CENTRE|CENTER|G/F|\d+/F|LEVEL|SELANGOR|KUALA LUMPUR|JOHOR|DISTRICT|KOWLOON|"
    r"HONG KONG|NEW TERRITORIES|PERSIARAN|LORONG|BANDAR|SEKSYEN|KAWASAN|INDUSTRI|TMN|JL|WILAYAH|"
    r"PERSEKUTUAN|HOURS|OPENING|ORDER|NUMBER|GOODS|RETURNABLE|EXCHANGE|CASH SALE|PAID|MEMBER|"
    r"COUNTER|TERMINAL|POS|SALES)(?![A-Z])|^\d+\s?[-,]\s?\d|(?<!\d)\d{5,6}(?!\d)|"
    r"收据|发票|小票|结账单|账单|欢迎|谢谢|电话|传真|地址|商业登记|统一社会信用代码|税号|纳税人|"
    r"[路道街巷号楼室铺座层]\s?\d|\d+\s?[号楼室铺座层]|日期|时间|收银|台号|单号|桌|CASHIER|DATE|TIME|TABLE"
)
_COMPANY = re.compile(
    r"(?<![A-Z])(?:SDN\.?\s?BHD|BHD|S/B|LTD|LIMITED|CO\.|COMPANY|ENTERPRISE|TRADING|RESTAURANT|CAFE|"
    r"MART|STORE|SHOP|BAKERY|HARDWARE|STATIONERY|PHARMACY|KITCHEN|MARKET|HOLDINGS|GROUP)(?![A-Z])|"
    r"有限公司|公司|餐厅|酒家|茶餐厅|饭店|商店|商行|超市|药房|便利店|咖啡|面包|酒楼|食府|店|"
    r"烘焙|面馆|面家|奶茶|茶饮|冰室|茶室|茶楼|餐室|粥面|烧腊|美食|小食|甜品|士多|百货|市场|文具|五金"
)
# A row that only names the branch: "(锦江店)", "沙田分店", "(Sha Tin Branch)".
_BRANCH_ONLY = re.compile(
    r"^\(\s?[^()]{1,16}?\s?(?:分店|店|BRANCH|OUTLET)\s?\)$|^[^()]{1,16}?\s?(?:分店|BRANCH|OUTLET)$"
)


@dataclass(frozen=True, slots=True)
class MerchantGuess:
    name: str
    confidence: float
    candidates: tuple[str, ...]  # header lines that could be the name, best first


_REGISTRATION = re.compile(r"\(?\s?\d{4,}\s?-?\s?[A-Z]\s?\)|\(\s?\d{4,}\s?\)")


def strip_registration(text: str) -> str:
    """Drop a company number printed after the name: "99 SPEED MART S/B (519537-X)"."""
    return _REGISTRATION.sub("", text).strip(" *-=#")


def is_noise(text: str) -> bool:
    """Address, phone, tax id, document title, date...: never the shop's name."""
    folded = fold(strip_registration(text))
    letters = sum(ch.isalpha() for ch in folded)
    digits = sum(ch.isdigit() for ch in folded)
    if letters < 2 or digits > max(3, letters // 2):
        return True
    return bool(_NOISE.search(folded) or _BRANCH_ONLY.match(folded))


def header_rows(rows: Sequence[Row], stop: int) -> list[Row]:
    """Rows above ``stop`` (the first date, receipt number or amount row), at most ten."""
    return list(rows[: max(1, min(stop, 10))])


def guess_merchant(
    rows: Sequence[Row], stop: int, aliases: Sequence[str] = ()
) -> MerchantGuess | None:
    """The shop's name and the candidate header lines; aliases from a profile win."""
    header = header_rows(rows, stop)
    if aliases:
        matched = match_alias(
            [r.text for r in rows[: max(stop, 12)]] + [r.text for r in rows[-8:]], aliases
        )
        if matched:
            alias, score = matched
            return MerchantGuess(alias, round(0.7 + 0.28 * score, 2), (alias,))
    scored: list[tuple[float, str]] = []
    heights = sorted(r.height for r in header) or [1.0]
    tall = heights[len(heights) // 2]
    for position, row in enumerate(header):
        text = strip_registration(row.text)
        if is_noise(text):
            continue
        score = 1.0 - 0.08 * position
        if _COMPANY.search(fold(text)):
            score += 0.4
        if row.height > 1.3 * tall:
            score += 0.2  # names are often printed larger
        if has_cjk(text):
            score += 0.05
        score += 0.2 * row.confidence
        scored.append((score, _join_continuation(header, position, text)))
    if not scored:
        return None
    scored.sort(key=lambda s: -s[0])
    candidates = tuple(dict.fromkeys(text for _, text in scored))
    best_score = scored[0][0]
    confidence = 0.55 if best_score > 1.2 else 0.4
    if len(scored) > 1 and best_score - scored[1][0] < 0.1:
        confidence -= 0.1
    return MerchantGuess(candidates[0], confidence, candidates[:5])


def _join_continuation(header: Sequence[Row], position: int, text: str) -> str:
    # "HOME MASTER HARDWARE &" / "ELECTRICAL": a name wrapped onto a second line.
    if position + 1 >= len(header):
        return text
    following = header[position + 1].text.strip()
    if is_noise(following):
        return text
    folded_next = fold(following)
    wraps = text.rstrip().endswith(("&", "-", ",")) or (
        not _COMPANY.search(fold(text))
        and re.fullmatch(
            r"\(?[A-Z0-9 .&()]*\)?\s?(?:SDN\.?\s?BHD|BHD|S/B|LTD\.?|LIMITED)\.?", folded_next
        )
    )
    return f"{text} {following}" if wraps else text


def match_alias(
    lines: Sequence[str], aliases: Sequence[str], threshold: float = 0.8
) -> tuple[str, float] | None:
    """The alias best matched by any line (or two adjacent lines), with its 0-1 score."""
    best: tuple[str, float] | None = None
    keys = [name_key(line) for line in lines]
    pairs = keys + [a + b for a, b in itertools.pairwise(keys)]
    for alias in aliases:
        target = name_key(alias)
        if len(target) < 2:
            continue
        for key in pairs:
            if not key:
                continue
            score = similarity(key, target)
            if target in key and len(target) >= 0.5 * len(key):
                score = max(score, 0.95)
            elif key.startswith(target) and len(target) >= 3:
                score = max(score, 0.92)  # "大家乐(铜锣湾店)": the name plus its branch
            if score >= threshold and (best is None or score > best[1]):
                best = (alias, score)
    return best
