"""The ``loyalchat`` command line (also ``python -m loyalchat``)."""

from __future__ import annotations

import click
import pluggy

from loyalchat.commands.admin import createadmin_command, migrate_command
from loyalchat.commands.demo import demo_command
from loyalchat.commands.serve import serve_command


def build_cli(pm: pluggy.PluginManager | None = None) -> click.Group:
    """The command group, with plugin commands added through ``register_commands``.

    The plugin manager (``pm``, else one built from settings) is every command's context
    object and the current manager while a command runs.
    """
    from loyalchat.commands.ocr import ocr_command
    from loyalchat.commands.plugins import plugins_command
    from loyalchat.commands.receipts import receipts_group
    from loyalchat.commands.wallet import wallet_link_command
    from loyalchat.commands.worker import scheduler_command, worker_command
    from loyalchat.pluginmanager import build_plugin_manager, use_plugin_manager

    pm = pm or build_plugin_manager()

    @click.group(context_settings={"help_option_names": ["-h", "--help"]})
    @click.version_option(package_name="loyalchat")
    @click.pass_context
    def cli(ctx: click.Context) -> None:
        """loyalchat: membership points over the chat apps customers already use."""
        ctx.obj = ctx.obj or pm
        ctx.with_resource(use_plugin_manager(ctx.obj))

    for command in (
        serve_command,
        worker_command,
        scheduler_command,
        migrate_command,
        createadmin_command,
        plugins_command,
        demo_command,
        ocr_command,
        receipts_group,
        wallet_link_command,
    ):
        cli.add_command(command)
    pm.hook.register_commands(cli=cli)
    return cli


def main() -> None:
    from loyalchat.log import configure_logging
    from loyalchat.settings import get_settings

    # Logs go to stderr, so `--json` output on stdout stays machine-readable.
    configure_logging(get_settings())
    build_cli()(prog_name="loyalchat")
