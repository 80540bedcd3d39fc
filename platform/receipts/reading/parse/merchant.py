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
from loyalchat.receipts.reading.parse.text import fold, halfwidth, has_cjk, name_key, similarity

_NOISE = re.compile(
    r"TAX\s?INVOICE|INVOICE|RECEIPT|OFFICIAL|CASH\s?BILL|SIMPLIFIED|COPY|WELCOME|THANK|"
    r"(?:CREDIT|DEBIT)\s?NOTE|DELIVERY\s?ORDER|QUOTATION|"
    r"(?<![A-Z])TIN(?=\s?(?:NO|[:#.]|\d))|(?<![A-Z])(?:GST|SST|VAT|BRN|ROC|UEN|REGISTRATION|(?:CO\.?|COMPANY)\s?(?:REG|NO)|REG\.?\s?NO|BR\s?NO|ID)(?![A-Z])|"
    r"(?<![A-Z])(?:TEL(?:EPHONE|NO)?|PHONE|FAX|MOBILE|HOTLINE|WHATSAPP)(?![A-Z])|E-?MAIL|WWW\.|HTTP|\.COM|@|"
    r"(?<![A-Z])(?:JALAN|JLN|TAMAN|LOT|NO\.|BLOCK|BLK|FLOOR|UNIT|SHOP|ROAD|RD\.?|STREET|ST\.|AVENUE|"
    r"BUILDING|BLDG|PLAZA|CENTRE|CENTER|G/F|\d+/F|LEVEL|SELANGOR|KUALA LUMPUR|JOHOR|DISTRICT|KOWLOON|"
    r"HONG KONG|NEW TERRITORIES|PERSIARAN|LORONG|BANDAR|SEKSYEN|KAWASAN|INDUSTRI|TMN|JL|WILAYAH|"
    r"PERSEKUTUAN|PUSAT|HOURS|OPENING|ORDER|NUMBER|GOODS|RETURNABLE|EXCHANGE|CASH SALE|PAID|MEMBER|"
    r"COUNTER|TERMINAL|POS|SALES)(?![A-Z])|^\d+\s?[-,]\s?\d|(?<!\d)\d{5,6}(?!\d)|"
    r"收据|发票|小票|结账单|账单|[销售退货款送点菜交易购物]{2}单$|欢迎|谢谢|多谢|惠顾|光临|电话|传真|地址|商业登记|注册编号|登记号|"
    r"统一社会信用代码|税号|纳税人|[路道街巷号楼室铺座层]\s?\d|\d+\s?[号楼室铺座层]|[路道街巷里][一二三四五六七八九十百零〇]+\s?号|"
    r"\d.*(?<![A-Z])(?:ST|AVE)\.?$|日期|时间|收银|台号|单号|桌|[号码]\s?:|"
    r"(?<![A-Z])(?:CASHIER|DATE|TIME|TABLE|GUEST\s?CHECK|MALAYSIA\.?$)(?![A-Z])"
)
_COMPANY = re.compile(
    r"(?<![A-Z])(?:SDN\.?\s?BHD|BHD|S/B|LTD|LIMITED|CO\.|COMPANY|ENTERPRISE|TRADING|RESTAURANT|CAFE|"
    r"MART|STORE|SHOP|BAKERY|HARDWARE|STATIONERY|PHARMACY|KITCHEN|MARKET|HOLDINGS|GROUP)(?![A-Z])|"
    r"有限公司|公司|餐厅|酒家|茶餐厅|饭店|商店|商行|超市|药房|便利店|咖啡|面包|酒楼|食府|店|"
    r"烘焙|面馆|面家|奶茶|茶饮|冰室|茶室|茶楼|餐室|粥面|烧腊|美食|小食|甜品|士多|百货|市场|文具|五金"
)
# A registered company's name ends with its legal form: such a line is the name even when
# it holds words that otherwise mark an address or a web site ("ECO-SHOP MARKETING SDN
# BHD", "ECOSWAY.COM SDN BHD"), unless it is a phone, tax or document line.
_LEGAL_NAME = re.compile(
    r"(?<![A-Z])(?:SDN\.?\s?BHD|BHD|S/B|PTE\.?\s?LTD|LTD|LIMITED|INC|CORP(?:ORATION)?)\.?$|有限公司$"
)
_NEVER_NAME = re.compile(
    r"(?<![A-Z])(?:TEL|PHONE|FAX|E-?MAIL|GST|SST|VAT|TAX|INVOICE|RECEIPT|REG|NO\.?\s?\d)(?![A-Z])|:|@"
)
# Words that say what kind of business, not which one.
_KIND = re.compile(
    r"(?<![A-Z])(?:BISTRO|CAFE|CAFÉ|COFFEE|KOPITIAM|RESTAURANT|RESTORAN|BAR|GRILL|KITCHEN|"
    r"BAKERY|BAKERIES|CONFECTIONERY|TRADING|ENTERPRISES?|HARDWARE|ELECTRICAL|STATIONERY|"
    r"PHARMACY|MINI ?MARKET|SUPERMARKET|MARKET|MART|STORE|SHOP|FOODS?|BEVERAGES?|CATERING|"
    r"SDN\.?|BHD\.?|S/B|LTD\.?|LIMITED|CO\.?|COMPANY|HOLDINGS|GROUP|AND)(?![A-Z])|"
    r"有限公司|公司|茶餐厅|餐厅|酒家|饭店|商店|商行|超市|药房|便利店|咖啡|面包|酒楼|食府|"
    r"烘焙|面馆|面家|奶茶|茶饮|冰室|茶室|茶楼|餐室|粥面|烧腊|美食|小食|甜品|士多|百货|市场|文具|五金"
)
_PUNCT = re.compile(r"[\s\W_]+")
# A row that only names the branch: "(锦江店)", "沙田分店", "(Sha Tin Branch)", "旺角門市",
# "Branch: Mong Kok".
_BRANCH_ONLY = re.compile(
    r"^\(\s?[^()]{1,16}?\s?(?:分店|店|分行|门市|BRANCH|OUTLET)\s?\)$"
    r"|^[^()]{1,16}?\s?(?:分店|分行|门市部?|旗舰店|BRANCH|OUTLET)$|^(?:BRANCH|OUTLET|分店|分行|门市)\s?:"
)
# "WELCOME TO HAPPY MART", "歡迎光臨大家樂": the name follows the greeting.
_WELCOME_TO = re.compile(
    r"^\W*(?:WELCOME\s*TO|[歡欢]迎[光蒞莅][臨临]|[歡欢]迎[來来]到)\s*[:,!]?\s*", re.I
)


@dataclass(frozen=True, slots=True)
class MerchantGuess:
    name: str
    confidence: float
    candidates: tuple[str, ...]  # header lines that could be the name, best first


# Malaysian company numbers after the name: "(519537-X)", "(509213A)", "(Co. No:20154-T)",
# a bare "273500-U", OCR reading the dash as a dot ("519537·X"), or cut off at the edge
# "(139386".
_REGISTRATION = re.compile(
    r"\(\s?(?i:CO(?:MPANY)?\.?\s?(?:REG(?:ISTRATION)?\.?\s?)?NO)\.?\s?:?\s?\d{4,}\s?[-·.]?\s?[A-Z]?\s?\)|"
    r"\(?\s?\d{4,}\s?[-·.]?\s?[A-Z]\s?\)|\(\s?\d{4,}\s?\)|"
    r"(?<![\w/-])\d{5,8}\s?[-·]\s?[A-Z](?![\w/-])|\(\s?\d{4,}\s?[-·]?\s?[A-Z]?\s?$"
)


def strip_registration(text: str) -> str:
    """Drop a company number printed after the name: "99 SPEED MART S/B (519537-X)"."""
    return re.sub(r"\s{2,}", " ", _REGISTRATION.sub("", text)).strip(" *-=#")


def is_noise(text: str) -> bool:
    """Address, phone, tax id, document title, date...: never the shop's name."""
    folded = fold(strip_registration(text))
    letters = sum(ch.isalpha() for ch in folded)
    digits = sum(ch.isdigit() for ch in folded)
    if letters < 2 or digits > max(3, letters // 2):
        return True
    if _LEGAL_NAME.search(folded) and not _NEVER_NAME.search(folded):
        return False
    return bool(_NOISE.search(folded) or _BRANCH_ONLY.match(folded))


def after_greeting(text: str) -> str:
    """The shop's name in "WELCOME TO <NAME>"; the text itself when it is no such line."""
    m = _WELCOME_TO.match(halfwidth(text))
    if not m:
        return text
    name = halfwidth(text)[m.end() :].strip(" !.,~*-=")
    return name if name and not is_noise(name) else text


def header_rows(rows: Sequence[Row], stop: int) -> list[Row]:
    """Rows above ``stop`` (the first date, receipt number or amount row), at most ten."""
    return list(rows[: max(1, min(stop, 10))])


def guess_merchant(
    rows: Sequence[Row], stop: int, aliases: Sequence[str] = (), *, reach: int | None = None
) -> MerchantGuess | None:
    """The shop's name and the candidate header lines; aliases from a profile win.

    When ``stop`` is within the first two rows and nothing above it can be the name, rows
    down to ``reach`` (the first amount row; at most ten) are read instead, with a low
    confidence.
    """
    header = header_rows(rows, stop)
    if aliases:
        matched = match_alias(
            [r.text for r in rows[: max(stop, 12)]] + [r.text for r in rows[-8:]], aliases
        )
        if matched:
            alias, score = matched
            return MerchantGuess(alias, round(0.7 + 0.28 * score, 2), (alias,))
    scored = _score_header(header)
    further = list(rows[: min(10, reach if reach is not None else stop)])
    fallback = not scored and len(header) <= 2 and len(further) > len(header)
    if fallback:
        # A date in the first two rows and no name above it: a stamp or a slip printed
        # over the header ("PAID 13 MAR 2018"); the name may follow, above the items.
        scored = _score_header(further)
    if not scored:
        # "屈臣氏旺角分店" and no name above it: the name printed with its branch.
        scored = _score_header(header, branches=True)
        fallback = True
    if not scored:
        return None
    scored.sort(key=lambda s: -s[0])
    candidates = tuple(dict.fromkeys(text for _, text in scored))
    best_score = scored[0][0]
    confidence = 0.55 if best_score > 1.2 and not fallback else 0.4
    if len(scored) > 1 and best_score - scored[1][0] < 0.1:
        confidence -= 0.1
    return MerchantGuess(candidates[0], confidence, candidates[:5])


def _score_header(header: Sequence[Row], branches: bool = False) -> list[tuple[float, str]]:
    """Candidate name lines with their scores; with ``branches``, branch lines count too."""
    scored: list[tuple[float, str]] = []
    heights = sorted(r.height for r in header) or [1.0]
    tall = heights[len(heights) // 2]
    joined: set[int] = set()
    for position, row in enumerate(header):
        text = after_greeting(strip_registration(row.text))
        if position in joined or (is_noise(text) and not (branches and _branch_line(text))):
            continue
        name, used = _join_continuation(header, position, text)
        joined.update(range(position + 1, position + used))
        score = 1.0 - 0.08 * position
        folded = fold(name)
        if _COMPANY.search(folded):
            score += 0.4
        if _LEGAL_NAME.search(folded) and not has_cjk(folded):
            score += 0.15  # the registered name, which a tax invoice must print
        if row.height > 1.3 * tall:
            score += 0.2  # names are often printed larger
        if _registered(header, position + used - 1):
            score += 0.4  # its company number printed below it: the registered name
        if has_cjk(text):
            score += 0.05
        if _handwritten(text):
            score -= 0.4
        score += 0.2 * row.confidence
        scored.append((score, name))
    return scored


def _registered(header: Sequence[Row], position: int) -> bool:
    """The company number is printed on a row of its own just below: "FIVE STAR CASH &
    CARRY / (1365663-P)". (One printed on the name's row proves less: "Owned By : SANYU
    SUPPLY SDN BHD (1135772-K)" is the owner below the shop's name.)"""
    below = header[position + 1].text if position + 1 < len(header) else ""
    return bool(_REGISTRATION.search(below)) and not strip_registration(below)


def _branch_line(text: str) -> bool:
    folded = fold(text)
    return bool(_BRANCH_ONLY.match(folded)) and not _NOISE.search(folded)


def _handwritten(text: str) -> bool:
    # "tan woon yann" above the printed header: a note or a customer's name written on
    # the slip. Printers set shop names in capitals or title case, never all lower case.
    letters = [ch for ch in text if ch.isascii() and ch.isalpha()]
    return len(letters) >= 3 and not has_cjk(text) and all(ch.islower() for ch in letters)


def kind_only(text: str) -> bool:
    """The line names only a kind of business ("BISTRO & CAFE", "茶餐厅"), not which one."""
    folded = fold(strip_registration(text))
    return bool(folded) and not _PUNCT.sub("", _KIND.sub("", folded))


def _join_continuation(header: Sequence[Row], position: int, text: str) -> tuple[str, int]:
    """The name starting at ``position``, with the lines it wraps onto, and how many rows.

    "HOME MASTER HARDWARE &" / "ELECTRICAL", "THREE STOOGES" / "BISTRO & CAFE",
    "AIK HUAT HARDWARE" / "ENTERPRISE (SETIA" / "ALAM) SDN BHD".
    """
    used = 1
    while position + used < len(header) and used < 3:
        following = strip_registration(header[position + used].text.strip())
        if not following or is_noise(following):
            break
        folded, folded_next = fold(text), fold(following)
        open_bracket = folded.count("(") > folded.count(")")  # "ENTERPRISE (SETIA"
        complete = folded.rsplit("(", 1)[0] if open_bracket else folded
        if _LEGAL_NAME.search(complete.rstrip(" .,")):
            break  # "... SDN BHD": the registered name is complete
        wraps = (
            text.rstrip().endswith(("&", "-", ","))
            or open_bracket
            or kind_only(following)
            or bool(_KIND.match(folded_next))
            or (
                not _COMPANY.search(folded)
                and re.fullmatch(
                    r"(?:\([A-Z]{1,4}\)\s?)?(?:SDN\.?\s?BHD|BHD|S/B|LTD\.?|LIMITED)\.?",
                    folded_next,
                )
            )
        )
        if not wraps:
            break
        text = f"{text} {following}"
        used += 1
    return text, used


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
