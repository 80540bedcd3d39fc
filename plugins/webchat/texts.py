"""Every text of the chat page, as catalogue msgids (``N_``): translated per request.

They live here, not in the template, because the catalogue extraction reads plugins'
Python files (frontend/babel.cfg) and only the frontend's own templates. The page gets
them translated in its context (``t``) and the script gets those it needs as data.
"""

from __future__ import annotations

from loyalchat.i18n import N_

PAGE = {
    "title": N_("Chat with %(shop)s"),
    "intro": N_("Send a message to start. Ask for your points, rewards or the menu at any time."),
    "log": N_("Messages"),
    "placeholder": N_("Type a message"),
    "send": N_("Send"),
    "photo": N_("Send a photo"),
    "sending": N_("Sending…"),
    "failed": N_("Not sent. Tap to try again."),
    "offline": N_("Connection lost. Trying again…"),
    "picture": N_("Picture"),
    "photo_failed": N_("The photo could not be sent. Try again."),
}

# A post refused by the rate limits (:mod:`.limits`): shown under the refused bubble.
LIMITED = {
    "message": N_("You are sending messages too fast. Wait a moment, then try again."),
    "photo": N_("You are sending photos too fast. Wait a moment, then try again."),
}
