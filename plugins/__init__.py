"""First-party plugins, one subpackage each, loaded through the ``loyalchat`` entry points."""
