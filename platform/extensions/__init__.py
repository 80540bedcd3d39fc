"""What plugins hand over, and how the host collects it.

One module per family (``channels``, ``ocr``, ``receipts``, ``rewards``, ``payments``,
``settings_fields``): the async ``Protocol`` a plugin's object implements, the small
dataclasses that cross the boundary, and a ``get_*()`` function that calls the family's
``register_*`` hook, validates what comes back and returns an ordered registry.
"""
