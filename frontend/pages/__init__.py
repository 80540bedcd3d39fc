"""Page controllers: thin; they parse the form, authorise, call a service and render."""
