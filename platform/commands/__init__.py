"""CLI subcommands, one module per concern; ``loyalchat.cli`` assembles them."""
