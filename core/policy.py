"""What operators allow: whose spending is capped and by how much, and what the bot refuses.

Where the bot answers and who is an admin is each platform's allowlists
(:class:`core.access.Allowlists`: its settings plus what operators added); the engine asks both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.limits import Caps, Window, caps_for

if TYPE_CHECKING:
    from core.store import Store

#: Longer descriptions are refused with a message rather than cut or sent to fail at IMA.
MAX_PROMPT_CHARS = 2000
MAX_LYRICS_CHARS = 3000


@dataclass(frozen=True)
class Policy:
    #: Case-insensitive words that make the bot refuse a prompt before anything is spent.
    banned_words: tuple[str, ...] = ()
    #: The default caps (a chat's own replace them, see :mod:`core.limits`).
    max_active_per_user: int = 3
    max_active_per_chat: int | None = None
    user_daily_credits: int | None = None
    chat_daily_credits: int | None = None
    #: The window the credit caps count (despite the names above, which predate it).
    window: Window = Window.DAY
    #: Jobs at IMA at once, across every chat and replica (None: no limit).
    max_running: int | None = None
    #: In group chats, a job above this many credits waits for a tap (None: never asks).
    confirm_above_credits: int | None = None

    def banned(self, *texts: str | None) -> bool:
        folded = " ".join(t for t in texts if t).casefold()
        return any(word.casefold() in folded for word in self.banned_words)

    @property
    def caps(self) -> Caps:
        """The default caps, for a chat without its own."""
        return Caps(
            user_credits=self.user_daily_credits,
            chat_credits=self.chat_daily_credits,
            window=self.window,
            user_running=self.max_active_per_user,
            chat_running=self.max_active_per_chat,
        )

    async def caps_in(self, store: Store, platform: str, chat_id: str, *, admin: bool) -> Caps:
        """The caps that apply to a person in a chat: the chat's own, else the defaults."""
        return caps_for(self.caps, await store.chat_caps(platform, chat_id), admin=admin)
