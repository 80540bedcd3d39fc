"""One turn of a conversation as the bot's modules see it: who, in which language, what the
bot was waiting for, and what the channel can show.

Questions with choices go out as a list or buttons where the channel has them
(``Capability.choices``) and as numbered lines otherwise; either way the step remembers
which number means which choice, so "2" and a tap on the second button do the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from loyalchat.bot import texts
from loyalchat.bot.replies import Reply, Turn
from loyalchat.conversations import state
from loyalchat.conversations.state import ConversationOut
from loyalchat.extensions.channels import Capability, Choice
from loyalchat.members.schemas import MemberOut
from loyalchat.tenants.service import TenantInfo

MAX_CHOICES = 10  # a WhatsApp list's rows; more would be cut by the channel


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
        self, question: str, choices: Sequence[Choice], hint: str = texts.PICK_NUMBER
    ) -> tuple[Reply, dict[str, str]]:
        """The question with its choices, and ``{"1": choice id, ...}`` for the step."""
        shown = tuple(choices[:MAX_CHOICES])
        options = {str(n): choice.id for n, choice in enumerate(shown, 1)}
        if self.with_choices:
            return Reply(text=question, choices=shown), options
        lines = [question]
        for n, choice in enumerate(shown, 1):
            extra = f" ({choice.description})" if choice.description else ""
            lines.append(f"{n}. {choice.title}{extra}")
        lines.append(self.say(hint))
        return Reply(text="\n".join(lines)), options
