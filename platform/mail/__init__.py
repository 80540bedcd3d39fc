"""Outgoing mail: templates in three languages, sent over SMTP or kept in a local outbox.

:func:`send_mail` renders ``templates/<name>.txt`` (and ``<name>.html`` when there is one)
with Jinja and the gettext catalogue of the reader's language, then queues the finished
message for SMTP when ``LOYALCHAT_SMTP_URL`` is set (the ``deliver_mail`` actor of
:mod:`loyalchat.mail.tasks` sends it, with retries), or writes it at once as one RFC 5322
file under ``<var_dir>/outbox/`` (the embedded default; the platform admin reads it at
/admin/outbox).
"""

from loyalchat.mail.delivery import PermanentMailError, TemporaryMailError
from loyalchat.mail.outbox import OutboxEntry, outbox_dir, outbox_messages, read_outbox_message
from loyalchat.mail.render import RenderedMail, absolute_url, render_mail
from loyalchat.mail.send import MailError, build_message, send_mail

__all__ = [
    "MailError",
    "OutboxEntry",
    "PermanentMailError",
    "RenderedMail",
    "TemporaryMailError",
    "absolute_url",
    "build_message",
    "outbox_dir",
    "outbox_messages",
    "read_outbox_message",
    "render_mail",
    "send_mail",
]
