"""Field extraction: OCR lines (text + geometry) -> receipt fields with confidences."""

from loyalchat.receipts.reading.parse.generic import GenericParser, parse_lines

__all__ = ["GenericParser", "parse_lines"]
