"""Which printed labels name the total, and which only look like it.

Text is folded first (half-width, Simplified, upper case) and OCR-mangled English words
are corrected against a small vocabulary ("TOTAI" -> "TOTAL", "T0TAL" -> "TOTAL"), so
one pattern covers Traditional, Simplified and misread variants. Where two patterns
overlap the longer wins: "SUB TOTAL" is a subtotal, "TOTAL QTY" a count, not "TOTAL".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from loyalchat.receipts.reading.parse.text import edit_distance, fold

TOTAL = "total"
NOT_TOTAL = (
    "subtotal",
    "change",
    "tendered",
    "discount",
    "tax",
    "service",
    "rounding",
    "count",
    "total_excl",
    "balance",
)

_VOCAB = (
    "TOTAL SUBTOTAL GRAND AMOUNT DUE NETT CHANGE CASH TENDERED ROUNDING ROUNDED ADJUSTMENT "
    "DISCOUNT SERVICE CHARGE QUANTITY ITEMS EXCL INCL EXCLUSIVE INCLUSIVE PAYMENT PAYABLE "
    "BALANCE SALES SAVINGS RECEIVED DEPOSIT INVOICE RECEIPT CASHIER VOUCHER ITEM REFUND "
    "REMAINING OCTOPUS TENDER"
).split()
# Ordinary words one letter off a label word, never corrected to it: "NEXT VISIT" is not
# "NETT", "PHONE CASE" not "CASH", "SUNFLOWER STEM" not "ITEM".
_REAL_WORDS = frozenset("NEXT NEST NEAT CASE CAST CASK WASH DASH MASH RASH STEM TOTE".split())
_LETTERS = str.maketrans({"0": "O", "1": "I", "5": "S", "8": "B", "|": "I"})

# The end of a label word, or a currency printed against it ("CASHRM 150.00").
_WORD_END = r"(?:(?![A-Z])|(?=RM|HKD?\$?|MYR))"

# (kind, strength, pattern); strength only matters for kind == TOTAL.
_RULES: tuple[tuple[str, float, str], ...] = (
    (
        TOTAL,
        1.0,
        r"GRAND\s?TOTAL|NETT?\s?TOTAL|ROUNDED\s?TOTAL|TOTAL\s?(?:AMT|AMOUNT)?\s?\(?ROUNDED\)?",
    ),
    (
        TOTAL,
        1.0,
        r"(?:TOTAL\s?|NETT?\s?)?AMOUNT\s?DUE|TOTAL\s?DUE|BALANCE\s?DUE|(?:TOTAL|AMOUNT|AMT)\s?PAYABLE",
    ),
    (
        TOTAL,
        1.0,
        r"NETT?\s?(?:AMOUNT|AMT)|NETT?\s?SALES?|AMOUNT\s?TO\s?(?:BE\s?)?PAID|(?<![A-Z])(?:TO\s?PAY|DUE)(?![A-Z])",
    ),
    # A refund's total: money going back (total.py makes it negative and warns "refund").
    (
        TOTAL,
        0.95,
        r"REFUND(?:ED)?\s?(?:TOTAL|AMOUNT|AMT|DUE)|TOTAL\s?REFUND(?:ED)?|AMOUNT\s?REFUNDED|"
        r"(?:退款|退货|退还)(?:金额|合计|总额|总计)|应退(?:金额|款)?|实退(?:金额)?",
    ),
    (
        TOTAL,
        0.95,
        r"(?:总|合)计|应付(?:金额|总额|款)?|应收(?:金额|总额|款)?|实付(?:金额|款)?|支付金额|付款金额"
        r"|消费金额|总金额|合共|实际(?:支付|付款|应付)|(?:折|优惠)后(?:金额|总额|价|合计)?|结算金额",
    ),
    (
        TOTAL,
        0.9,
        r"(?<![A-Z])TOTAL(?:\s?(?:AMOUNT|AMT|SALES|RM|HKD|MOP|RMB|\((?:RM|HKD|HK\$|\$|MOP|RMB)\)))?(?![A-Z])"
        r"|(?<![A-Z])NETT(?![A-Z])",
    ),
    (
        TOTAL,
        0.85,
        r"(?<![A-Z])T?TL(?![A-Z])|总额|总数|总价|实收(?:金额)?|共计(?!\s?\d+\s?[件项个])",
    ),
    (TOTAL, 0.8, r"TOTAL\s?(?:SALES\s?)?\(?INCL(?:USIVE)?\.?\s?(?:OF\s?)?(?:GST|SST|TAX|VAT)\)?"),
    (TOTAL, 0.6, r"TOTAL\s?PAID|(?<![A-Z])(?:AMOUNT|AMT)(?![A-Z])|(?<!\w)金额"),
    (
        "subtotal",
        0,
        # and the amount before a discount or rounding: "原價合計", "商品总额", "GROSS TOTAL".
        r"SUB\s?-?\s?(?:TOTAL|TTL)|小计|原价(?:合计|总计|总额|金额)?|折前(?:金额|总额|合计)?"
        r"|商品(?:总额|总价|金额|合计)|优惠前(?:金额|总额|合计)?|GROSS\s?(?:TOTAL|AMOUNT|AMT|SALES)"
        r"|TOTAL\s?BEFORE\s?(?:DISCOUNTS?|ROUNDING|ADJUSTMENT)|UNROUNDED\s?TOTAL"
        # "DISCOUNT 0.00 / AFTER DISCOUNT 31.60 / ROUNDING": what is left after the discount,
        # before the rounding (not "TOTAL AFTER DISCOUNT", the total).
        r"|(?<!TOTAL\s)(?<!TOTAL)AFTER\s?(?:DISCOUNTS?|DISC)(?![A-Z])",
    ),
    (
        "total_excl",
        0,
        r"TOTAL\s?(?:SALES\s?|AMOUNT\s?|AMT\s?)?\(?EXCL(?:USIVE|UDING)?\.?\s?(?:OF\s?)?(?:GST|SST|TAX|VAT)?\)?|BEFORE\s?(?:GST|TAX)",
    ),
    (
        "change",
        0,
        rf"(?<![A-Z])CHANGE(?:\s?DUE)?{_WORD_END}|BALANCE(?!\s?DUE)|找零|找续|找赎|找换|找钱|找回|找[续赎]?金额",
    ),
    (
        "tendered",
        0,
        rf"(?<![A-Z])CASH{_WORD_END}|TENDER(?:ED)?|PAYMENT|(?<![A-Z])PAY(?![A-Z])|PAID(?:\s?AMOUNT)?|AMOUNT\s?PAID|RECEIVED|ACCEPTED|(?<![A-Z])CREDIT(?![A-Z])|现金|现款|收款|已收|付款(?!金额)|VISA|MASTER|OCTOPUS|八达通|支付宝|微信|银联|CARD"
        r"|ALIPAY|WECHAT\s?PAY|PAYME|(?<![A-Z])(?:FPS|EPS|AMEX|JCB)(?![A-Z])|UNION\s?PAY|APPLE\s?PAY"
        r"|信用卡|刷卡|易办事|转数快|云闪付|悠游卡|一卡通|扣款|收现",
    ),
    (
        "discount",
        0,
        r"DISCOUNT|(?<![A-Z])DISC(?![A-Z])|SAVINGS?|YOU\s?SAVED?|VOUCHER|COUPON|折扣|优惠|折让|减免|会员价"
        r"|PROMO(?:TION)?|MARKDOWN|REBATE|REDEEM(?:ED)?|REDEMPTION|(?<![A-Z])(?:LESS|OFF)(?![A-Z])"
        r"|立减|满减|让利|抵扣|抵用|(?:优惠|代金|现金|折扣|礼品?|电子|消费)券",
    ),
    (
        "tax",
        0,
        r"(?<![A-Z])(?:GST|SST|VAT|TAX)(?![A-Z])|TOTAL\s?INCLUDED\s?(?:GST|SST|TAX|VAT)|TOTAL\s?INCLUD(?:ES|ING)\s?\d+\s?%\s?(?:GST|SST|TAX|VAT)|税|TOTAL\s?\d+\s?%[A-Z ]*|(?:TOTAL\s?)?(?:INCLUDED|INCLUSIVE)?\s?(?:GST|SST|TAX|VAT)\s?(?:INCLUDED\s?)?@?\s?\d+\s?%|SUPPLIES",
    ),
    (
        "service",
        0,
        r"SERVICE\s?(?:CHARGE|CHG|FEE)?|S[VR]C\s?CHG|SRV\s?CHG|服务费|加一|茶位|小费|TIPS?(?![A-Z])",
    ),
    (
        "rounding",
        0,
        r"ROUNDING(?:\s?ADJ(?:USTMENT)?)?|ROUND(?:ING)?\s?ADJ|(?<![A-Z])ADJ(?:USTMENT)?(?![A-Z])|舍入|尾数|抹零|找尾|凑整",
    ),
    (
        # What is left on a stored-value card or wallet: "八達通餘額", "Octopus balance",
        # "Remaining value". Never the amount paid, nor the change.
        "balance",
        0,
        r"[\u4e00-\u9fff]{0,5}余额|余值|剩余(?:金额|价值)?|储值|"
        r"(?:OCTOPUS|CARD|E-?\s?WALLET|WALLET|STORED\s?VALUE|NEW|PREVIOUS|PREV|REMAINING|AVAILABLE)"
        r"\s?(?:CARD\s?)?(?:BAL(?:ANCE)?|VALUE)(?![A-Z])|REMAINING(?:\s?BAL(?:ANCE)?)?",
    ),
    (
        "count",
        0,
        r"TOTAL\s?(?:QTY|QUANTITY|ITEMS?|ITEM\(S\)|PCS|UNITS|NO\.?\s?OF\s?ITEMS?)|"
        # Loyalty points and direct-selling point values: "TOTAL PV 10.56", "POINTS 25.00".
        r"TOTAL\s?(?:[BCEGPQS]V|PTS|POINTS?)(?![A-Z])|(?<![A-Z])(?:PTS|POINTS?)(?![A-Z])|积分|(?<![A-Z])(?:QTY|ITEMS?)(?![A-Z])|件数|数量|总件数|共\s?\d+\s?[件项个]|品项",
    ),
)
# A total label as vague as "AMOUNT": the word after it may say what the amount is.
_WEAK_TOTAL = 0.6
_COMPILED = tuple((kind, strength, re.compile(pattern)) for kind, strength, pattern in _RULES)


@dataclass(frozen=True, slots=True)
class Label:
    kind: str  # "total" or one of NOT_TOTAL
    strength: float  # how sure a "total" label names the amount paid (0 for others)
    text: str  # the label as folded and corrected ("NETT TOTAL", "合计")
    start: int  # span in the corrected text
    end: int


# Letters that thin or worn thermal print turns into one another: "IUIAL" for "TOTAL",
# "SUBIUIAL", "KUUNDING". Substituting only these, more than one edit is allowed.
_LOOKALIKE = {frozenset(pair) for pair in ("IT", "UO", "KR")}


def _lookalike(word: str, target: str) -> bool:
    if len(word) != len(target):
        return False
    swaps = [(a, b) for a, b in zip(word, target, strict=True) if a != b]
    return len(swaps) <= 3 and all(frozenset(swap) in _LOOKALIKE for swap in swaps)


def _correct_word(word: str) -> str:
    if not word.isascii() or len(word) < 4:
        return word
    candidate = word.translate(_LETTERS) if any(c.isalpha() for c in word) else word
    if candidate in _VOCAB:
        return candidate
    if not candidate.isalpha() or candidate in _REAL_WORDS:
        return word
    lookalike = next((v for v in _VOCAB if _lookalike(candidate, v)), None)
    if lookalike is not None:
        return lookalike
    distance = {v: edit_distance(candidate, v) for v in _VOCAB}
    best = min(_VOCAB, key=distance.__getitem__)
    if sum(1 for v in _VOCAB if distance[v] == distance[best]) > 1:
        return word  # "HCLUSIVE": as near INCLUSIVE as EXCLUSIVE, so neither
    limit = 1 if len(candidate) < 8 else 2
    return best if distance[best] <= limit and abs(len(best) - len(candidate)) <= 1 else word


def correct(text: str) -> str:
    """Folded text with OCR-mangled label words put right."""
    return re.sub(r"[A-Z0-9|]+", lambda m: _correct_word(m.group(0)), fold(text))


def find_labels(text: str) -> list[Label]:
    """Non-overlapping labels in ``text``, left to right; the longest match wins an overlap."""
    corrected = correct(text)
    matches = []
    for kind, strength, pattern in _COMPILED:
        for m in pattern.finditer(corrected):
            if m.end() > m.start():
                matches.append(Label(kind, strength, m.group(0), m.start(), m.end()))
    matches.sort(key=lambda lab: (-(lab.end - lab.start), lab.start))
    chosen: list[Label] = []
    for lab in matches:
        if all(lab.end <= c.start or lab.start >= c.end for c in chosen):
            chosen.append(lab)
    return sorted(chosen, key=lambda lab: lab.start)


def classify(text: str) -> Label | None:
    """The label that governs a line: the first one printed on it, if any."""
    found = find_labels(text)
    if not found:
        return None
    first = found[0]
    if len(found) > 1 and found[1].start - first.end <= 3:
        after = found[1]
        if (
            first.kind == TOTAL
            and after.kind in NOT_TOTAL
            and (
                after.kind != "tendered"
                or (first.strength <= _WEAK_TOTAL and "PAID" not in after.text)
            )
        ):
            # "TOTAL DISCOUNT", "TOTAL GST", "TOTAL SAVINGS", "AMOUNT TENDERED": the second
            # word says what it is (a payment only after a word as vague as "AMOUNT", and
            # not "PAID": "AMT PAID INCL GST" is what the sale came to).
            return Label(after.kind, 0, f"{first.text} {after.text}", first.start, after.end)
        if first.kind == TOTAL and after.kind == TOTAL and after.strength > first.strength:
            # "AMOUNT TO PAY": the words together are as sure as the surer of them.
            return Label(
                TOTAL, after.strength, f"{first.text} {after.text}", first.start, after.end
            )
        if first.kind == "tendered" and after.kind in ("rounding", "change"):
            # "CASH ROUNDING 0.01", "CASH CHANGE 71.40": the rounding of a cash payment, or
            # the change given back from it, not the cash handed over.
            return Label(after.kind, 0, f"{first.text} {after.text}", first.start, after.end)
    return first


def is_total_label(text: str) -> bool:
    lab = classify(text)
    return lab is not None and lab.kind == TOTAL


# A tax row that prints what the tax is charged on, not the charge: "Total 6% supplies
# (excl. GST): 13.30", "TOTAL 0% SUPPLIES 54.31", "不含税金额"; but "TOTAL GST 0.66",
# "TOTAL INCLUDED GST 0.80" and "税额合计" are charges (folded text).
_TAXABLE_BASE = re.compile(
    r"SUPPLIES|EXCL|不含税|未税|税前|TOTAL(?!\s?(?:INCL\w*\s?)?(?:GST|SST|VAT|TAX))"
)


def is_taxable_base(text: str) -> bool:
    """A tax row printing the amount the tax is charged on rather than the tax itself."""
    return _TAXABLE_BASE.search(fold(text)) is not None


def label_key(text: str) -> str:
    """A label as stored in a profile: corrected, folded, without punctuation."""
    return re.sub(r"[^\w]+", " ", correct(text)).strip()
