"""``loyalchat plugins``: the installed plugins, where they come from and their hooks."""

from __future__ import annotations

import json

import click
import pluggy

from loyalchat.pluginmanager import current_plugin_manager, describe_plugins

HEADERS = ("name", "distribution", "version", "hooks")


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def plugins_command(ctx: click.Context, as_json: bool) -> None:
    """List installed plugins and the hooks each implements."""
    # The CLI group hands in its plugin manager as the context object (tests hand theirs).
    pm = ctx.find_object(pluggy.PluginManager) or current_plugin_manager()
    rows = describe_plugins(pm)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    click.echo(format_table(rows))


def format_table(rows: list[dict]) -> str:
    """Plain aligned columns, one line per plugin."""
    cells = [HEADERS] + [
        (row["name"], row["distribution"], row["version"] or "-", ", ".join(row["hooks"]) or "-")
        for row in rows
    ]
    widths = [max(len(line[col]) for line in cells) for col in range(len(HEADERS) - 1)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=True))
        + "  "
        + line[-1]
        for line in cells
    ]
    if not rows:
        lines.append("(no plugins)")
    return "\n".join(lines)
