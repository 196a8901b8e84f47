"""What operators allow: where the bot answers, whose spending is capped, what it refuses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from core.request import ChatRequest
from core.store import Limits


@dataclass(frozen=True)
class Policy:
    #: Per platform, the guild, channel or chat ids the bot answers in (absent/empty: everywhere).
    allowed_places: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: Per platform, user ids that no limit applies to.
    admins: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: Case-insensitive words that make the bot refuse a prompt before anything is spent.
    banned_words: tuple[str, ...] = ()
    max_active_per_user: int = 3
    user_daily_credits: int | None = None
    chat_daily_credits: int | None = None

    def allows(self, request: ChatRequest) -> bool:
        allowed = self.allowed_places.get(request.platform)
        if not allowed or self.is_admin(request.platform, request.user_id):
            return True
        return any(place in allowed for place in (request.chat_id, *request.places))

    def is_admin(self, platform: str, user_id: str) -> bool:
        return user_id in self.admins.get(platform, frozenset())

    def banned(self, text: str) -> bool:
        folded = text.casefold()
        return any(word.casefold() in folded for word in self.banned_words)

    def limits_for(self, platform: str, user_id: str) -> Limits:
        if self.is_admin(platform, user_id):
            return Limits()
        return Limits(
            max_active=self.max_active_per_user,
            user_daily_credits=self.user_daily_credits,
            chat_daily_credits=self.chat_daily_credits,
        )
