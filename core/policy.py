"""What operators allow: whose spending is capped and by how much, and what the bot refuses.

Where the bot answers and who is an admin is each platform's own setting
(:class:`core.door.Access`, registered by its adapter); the engine asks both.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.store import Limits

#: Longer descriptions are refused with a message rather than cut or sent to fail at IMA.
MAX_PROMPT_CHARS = 2000
MAX_LYRICS_CHARS = 3000


@dataclass(frozen=True)
class Policy:
    #: Case-insensitive words that make the bot refuse a prompt before anything is spent.
    banned_words: tuple[str, ...] = ()
    max_active_per_user: int = 3
    user_daily_credits: int | None = None
    chat_daily_credits: int | None = None
    #: In group chats, a job above this many credits waits for a tap (None: never asks).
    confirm_above_credits: int | None = None

    def banned(self, *texts: str | None) -> bool:
        folded = " ".join(t for t in texts if t).casefold()
        return any(word.casefold() in folded for word in self.banned_words)

    def limits(self, *, admin: bool) -> Limits:
        if admin:
            return Limits()
        return Limits(
            max_active=self.max_active_per_user,
            user_daily_credits=self.user_daily_credits,
            chat_daily_credits=self.chat_daily_credits,
        )
