"""One turn of a conversation as the bot's modules see it: who, in which language, what the
bot was waiting for, and what the channel can show.

Questions with choices go out as a list or buttons where the channel has them
(``Capability.choices``) and as numbered lines otherwise; either way the step remembers
which number means which choice, so "2" and a tap on the second button do the same.

A channel whose text shows links (``Capability.text_links``: WeChat) gets a question whose
choices have pages (the rewards, each in the member's wallet) as numbered lines too, each
title a link, within :data:`LINKED_TEXT_BYTES`: the rewards that do not fit are left out
and one more line links to the page listing them all. The member still answers with the
number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from loyalchat.bot import texts
from loyalchat.bot.replies import Reply, Turn
from loyalchat.conversations import state
from loyalchat.conversations.state import ConversationOut
from loyalchat.extensions.channels import Capability, Choice
from loyalchat.members.schemas import MemberOut
from loyalchat.tenants.service import TenantInfo

MAX_CHOICES = 10  # a WhatsApp list's rows; more would be cut by the channel
# WeChat's limit on a customer-service text message (bytes of UTF-8), the one channel
# with text links; its URLs are long (a signed token each), so the budget is counted.
LINKED_TEXT_BYTES = 2048
MAX_LINKED_TITLE = 40  # characters of a title shown as a link (a long name costs the list)


@dataclass(frozen=True, slots=True)
class Chat:
    turn: Turn
    shop: TenantInfo
    conversation: ConversationOut
    member: MemberOut
    locale: str
    seen: Mapping[str, Any]  # the step the bot waited for, as this event sees it

    @property
    def with_choices(self) -> bool:
        return Capability.choices in self.turn.capabilities

    @property
    def with_text_links(self) -> bool:
        return Capability.text_links in self.turn.capabilities

    @property
    def with_images(self) -> bool:
        return Capability.image in self.turn.capabilities

    def say(self, message: str, **variables: Any) -> str:
        return texts.say(self.locale, message, **variables)

    async def wait_for(self, step: Mapping[str, Any]) -> None:
        """Wait for ``step`` (with an expiry) after this event."""
        await state.set_state(
            self.conversation, step, event_id=self.turn.inbound_event_id, seen=self.seen
        )

    async def wait_for_nothing(self) -> None:
        """Forget the pending step (nothing written when there was none)."""
        if self.seen or self.conversation.record.get("now"):
            await state.clear_state(
                self.conversation, event_id=self.turn.inbound_event_id, seen=self.seen
            )

    def offer(
        self,
        question: str,
        choices: Sequence[Choice],
        hint: str = texts.PICK_NUMBER,
        *,
        pages: Mapping[str, str] | None = None,
        all_url: str = "",
    ) -> tuple[Reply, dict[str, str]]:
        """The question with its choices, and ``{"1": choice id, ...}`` for the step.

        ``pages``: choice id -> the URL of that choice's page, and ``all_url`` the page of
        them all; shown as links only where the channel's text has links.
        """
        shown = tuple(choices[:MAX_CHOICES])
        if pages and self.with_text_links:
            linked = self._linked(question, choices, hint, pages, all_url)
            if linked is not None:
                return linked
        options = {str(n): choice.id for n, choice in enumerate(shown, 1)}
        if self.with_choices:
            return Reply(text=question, choices=shown), options
        lines = [question]
        for n, choice in enumerate(shown, 1):
            extra = f" ({choice.description})" if choice.description else ""
            lines.append(f"{n}. {choice.title}{extra}")
        lines.append(self.say(hint))
        return Reply(text="\n".join(lines)), options

    def _linked(
        self,
        question: str,
        choices: Sequence[Choice],
        hint: str,
        pages: Mapping[str, str],
        all_url: str,
    ) -> tuple[Reply, dict[str, str]] | None:
        """Numbered lines whose titles link to their pages, as many as fit in
        :data:`LINKED_TEXT_BYTES` (None when not one does)."""
        tail = [self.say(hint)]
        more = _link(all_url, self.say(texts.SEE_ALL)) if all_url else ""
        lines: list[str] = []
        for n, choice in enumerate(choices[:MAX_CHOICES], 1):
            extra = f" ({choice.description})" if choice.description else ""
            title = _short(choice.title)
            line = f"{n}. {_link(pages[choice.id], title) if choice.id in pages else title}{extra}"
            left_out = len(choices) > n
            ending = [more, *tail] if more and left_out else tail
            if _size([question, *lines, line, *ending]) > LINKED_TEXT_BYTES:
                break
            lines.append(line)
        if not lines:
            return None
        if more and len(lines) < len(choices):
            tail = [more, *tail]
        options = {str(n): choice.id for n, choice in enumerate(choices[: len(lines)], 1)}
        return Reply(text="\n".join([question, *lines, *tail])), options


def _short(title: str) -> str:
    """A title on one line, cut to :data:`MAX_LINKED_TITLE` characters."""
    title = " ".join(title.split())
    return title if len(title) <= MAX_LINKED_TITLE else title[: MAX_LINKED_TITLE - 1] + "…"


def _link(url: str, title: str) -> str:
    """``<a href="url">title</a>``; the title cannot close the tag (no ``<`` or ``>``)."""
    shown = title.replace("<", "‹").replace(">", "›")
    return f'<a href="{escape(url, quote=True)}">{shown}</a>'


def _size(lines: Sequence[str]) -> int:
    return len("\n".join(lines).encode())
