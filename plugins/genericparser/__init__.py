"""Built-in plugin: the generic receipt parser, the fallback for every POS layout."""

from __future__ import annotations

from loyalchat.extensions.plugin_info import PluginInfo
from loyalchat.hookimpl import hookimpl
from loyalchat.i18n import N_
from loyalchat.receipts.reading.parse.generic import GenericParser

PLUGIN_INFO = PluginInfo(
    title=N_("Receipt details"),
    summary=N_(
        "Finds the shop, date, receipt number and total on a receipt that was read, for any till layout."
    ),
)


@hookimpl
def register_receipt_parsers(register) -> None:
    register(GenericParser())
