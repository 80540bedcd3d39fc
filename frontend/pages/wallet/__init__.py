"""The member wallet (``/w/<token>/...``): one member's card, history and rewards."""
