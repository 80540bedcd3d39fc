"""The conversation engine members talk to on every channel (WhatsApp, WeChat, web chat...).

Channel-neutral: the core hands it a :class:`loyalchat.bot.engine.Turn` per inbound event
and stores the :class:`loyalchat.bot.engine.Reply` list it returns. Its state lives in the
conversation row (:mod:`loyalchat.conversations.state`), never in memory.
"""
