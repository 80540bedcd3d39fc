"""Built-in plugin: the generic receipt parser, the fallback for every POS layout."""

from __future__ import annotations

from loyalchat.hookimpl import hookimpl
from loyalchat.receipts.reading.parse.generic import GenericParser


@hookimpl
def register_receipt_parsers(register) -> None:
    register(GenericParser())
