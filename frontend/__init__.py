"""Everything HTML: page controllers, Jinja templates, static assets, message catalogues."""
