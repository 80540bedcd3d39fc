"""Everything HTML: page controllers, Jinja templates (with their gettext bindings), static assets.

Translations, the language of a request and date formatting are the core's
(``loyalchat.i18n``); this package only binds them to Jinja (``web.make_environment``).
"""
