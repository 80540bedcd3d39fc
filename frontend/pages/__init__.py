"""Page controllers: thin; they parse the form, authorise, call a service and render.

One folder per area, named for who uses its pages (``console/`` the shop's staff,
``wallet/`` a member on their phone, ``admin/`` platform admins); a new area is a new
folder. ``common/`` holds what several areas share: staff sign-in and the language
switcher, how things are displayed, and reading form fields. Templates are grouped the
same way under ``frontend/templates/``.
"""
