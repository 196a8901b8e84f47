"""What the fake remembers: users, guilds, channels, messages and interactions.

Everything a test inspects lives here as plain objects; waiting for a change goes through
:class:`~tests.fakes.loopback.Notifier`, which every mutation of the fake bumps.
"""

# The waiting helpers take a timeout on purpose: a test double must never hang a test,
# and its own timeout error names what was awaited.
# ruff: noqa: ASYNC109

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..loopback import Notifier
from .validation import iter_components

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000

# Channel types
GUILD_TEXT = 0
DM = 1

# Message flags
EPHEMERAL = 1 << 6
LOADING = 1 << 7

# Permission bits used by the fake
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_EXTERNAL_EMOJIS = 1 << 18
USE_APPLICATION_COMMANDS = 1 << 31
ALL_PERMISSIONS = (1 << 51) - 1
DEFAULT_BOT_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_EXTERNAL_EMOJIS
)
DEFAULT_MEMBER_PERMISSIONS = DEFAULT_BOT_PERMISSIONS | USE_APPLICATION_COMMANDS

# Interaction types
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4
MODAL_SUBMIT = 5


def iso(moment: datetime) -> str:
    return moment.isoformat()


class SnowflakeFactory:
    """Unique snowflakes whose embedded timestamp is real, so ``created_at`` means something."""

    def __init__(self) -> None:
        self._increment = 0

    def __call__(self, at: float | None = None) -> int:
        """A new id stamped with ``at`` (Unix seconds, default now)."""
        return self._make(int((time.time() if at is None else at) * 1000) - DISCORD_EPOCH_MS)

    def on_shard(self, shard_id: int, shard_count: int) -> int:
        """A new id for a guild that shard ``shard_id`` of ``shard_count`` serves; its
        timestamp is at most ``shard_count - 1`` ms in the past."""
        millis = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return self._make(millis - (millis - shard_id) % shard_count)

    def _make(self, millis_since_epoch: int) -> int:
        self._increment += 1
        return (millis_since_epoch << 22) | (self._increment & 0x3FFFFF)


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """The shard that receives a guild's events; DMs (``None``) go to shard 0."""
    return 0 if guild_id is None else (guild_id >> 22) % shard_count


def snowflake_time(snowflake: int) -> datetime:
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, UTC)


@dataclass(eq=False)
class FakeUser:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None
    #: False makes bot-token sends to this user's DM channel fail with 403 / 50007.
    accepts_dms: bool = True

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def to_payload(self) -> JSON:
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass(eq=False)
class FakeChannel:
    id: int
    type: int
    name: str | None = None
    guild_id: int | None = None
    #: The other user of a DM channel.
    recipient: FakeUser | None = None
    #: What the bot may do here; sends check VIEW_CHANNEL/SEND_MESSAGES/ATTACH_FILES.
    bot_permissions: int = DEFAULT_BOT_PERMISSIONS
    position: int = 0

    @property
    def is_dm(self) -> bool:
        return self.type == DM

    def to_payload(self, bot_id: int) -> JSON:
        if self.recipient is not None:
            return {
                "id": str(self.id),
                "type": self.type,
                "last_message_id": None,
                "recipients": [self.recipient.to_payload()],
                "flags": 0,
            }
        # A member overwrite for the bot makes discord.py's permissions_for(guild.me) agree
        # with what the fake enforces.
        overwrite = {
            "id": str(bot_id),
            "type": 1,
            "allow": str(self.bot_permissions),
            "deny": str(ALL_PERMISSIONS & ~self.bot_permissions),
        }
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [overwrite],
            "topic": None,
            "nsfw": False,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "parent_id": None,
            "flags": 0,
        }


@dataclass(eq=False)
class FakeGuild:
    id: int
    name: str
    owner_id: int
    preferred_locale: str = "en-US"
    channel_ids: list[int] = field(default_factory=list)
    members: list[FakeUser] = field(default_factory=list)
    joined_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def shard_id(self, shard_count: int) -> int:
        """The shard, out of ``shard_count``, that receives this guild's events."""
        return shard_of(self.id, shard_count)

    def member_permissions(self, user: FakeUser) -> int:
        return ALL_PERMISSIONS if user.id == self.owner_id else DEFAULT_MEMBER_PERMISSIONS

    def member_payload(self, user: FakeUser, *, with_user: bool = True) -> JSON:
        payload: JSON = {
            "nick": None,
            "avatar": None,
            "roles": [],
            "joined_at": iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            payload["user"] = user.to_payload()
        return payload


@dataclass(eq=False)
class StoredAttachment:
    id: int
    filename: str
    content_type: str
    data: bytes = field(repr=False)
    url: str
    description: str | None = None
    #: True for files users attach to slash commands (Discord serves those ephemerally).
    ephemeral: bool = False

    @property
    def size(self) -> int:
        return len(self.data)

    def to_payload(self) -> JSON:
        payload: JSON = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
        }
        if self.description is not None:
            payload["description"] = self.description
        if self.ephemeral:
            payload["ephemeral"] = True
        return payload


@dataclass(frozen=True)
class MessageSnapshot:
    """A message's visible state at one point; ``StoredMessage.history`` holds one per change."""

    content: str
    embeds: list[JSON]
    components: list[JSON]
    attachments: list[StoredAttachment]
    flags: int
    edited_at: datetime | None = None


@dataclass(eq=False)
class StoredMessage:
    id: int
    channel_id: int
    guild_id: int | None
    author: FakeUser
    history: list[MessageSnapshot]
    mentions: list[FakeUser] = field(default_factory=list)
    #: The application id for interaction responses and followups.
    webhook_id: int | None = None
    interaction_metadata: JSON | None = None
    message_reference: JSON | None = None
    #: The message this one replies to (sent along as ``referenced_message``).
    referenced: StoredMessage | None = field(default=None, repr=False)
    #: 0 DEFAULT, 19 REPLY, 20 CHAT_INPUT_COMMAND (a slash command's response).
    message_type: int = 0
    deleted: bool = False
    #: What the sender passed as ``nonce`` (Discord echoes it in the message it creates).
    nonce: str | None = None

    @property
    def current(self) -> MessageSnapshot:
        return self.history[-1]

    @property
    def content(self) -> str:
        return self.current.content

    @property
    def embeds(self) -> list[JSON]:
        return self.current.embeds

    @property
    def components(self) -> list[JSON]:
        return self.current.components

    @property
    def attachments(self) -> list[StoredAttachment]:
        return self.current.attachments

    @property
    def flags(self) -> int:
        return self.current.flags

    @property
    def edits(self) -> list[MessageSnapshot]:
        """Every state after the first, oldest first."""
        return self.history[1:]

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """True while this is a deferred "Bot is thinking..." message nobody has filled yet."""
        return bool(self.flags & LOADING)

    @property
    def created_at(self) -> datetime:
        return snowflake_time(self.id)

    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in iter_components(self.components) if "custom_id" in c]

    def find_component(self, custom_id: str) -> JSON | None:
        for component in iter_components(self.components):
            if component.get("custom_id") == custom_id:
                return component
        return None

    def to_payload(self) -> JSON:
        snapshot = self.current
        payload: JSON = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "author": self.author.to_payload(),
            "content": snapshot.content,
            "timestamp": iso(self.created_at),
            "edited_timestamp": iso(snapshot.edited_at) if snapshot.edited_at else None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [user.to_payload() for user in self.mentions],
            "mention_roles": [],
            "attachments": [a.to_payload() for a in snapshot.attachments],
            "embeds": snapshot.embeds,
            "components": snapshot.components,
            "pinned": False,
            "type": self.message_type,
            "flags": snapshot.flags,
        }
        if self.guild_id is not None:
            payload["guild_id"] = str(self.guild_id)
        if self.webhook_id is not None:
            payload["webhook_id"] = str(self.webhook_id)
            payload["application_id"] = str(self.webhook_id)
        if self.interaction_metadata is not None:
            payload["interaction_metadata"] = self.interaction_metadata
        if self.message_reference is not None:
            payload["message_reference"] = self.message_reference
        if self.nonce is not None:
            payload["nonce"] = self.nonce
        if self.referenced is not None:
            payload["referenced_message"] = self.referenced.to_payload()
        return payload


@dataclass(frozen=True)
class ApiError:
    """An error answer the fake gave (for assertions such as "the edit got 50027")."""

    method: str
    route: str
    status: int
    code: int
    message: str


@dataclass(frozen=True)
class RequestRecord:
    """One REST request; ``route`` is its template: ``POST /channels/{channel_id}/messages``."""

    method: str
    path: str
    route: str
    status: int
    code: int | None = None


@dataclass(frozen=True)
class Answer:
    """A message an interaction was answered with, and whether only its user could see it.

    ``callback_type`` is 4 (message), 5 (deferred, "thinking...") or 7 (the component's
    message updated) for the callback, ``None`` for a followup. Edits of the original response
    are not answers of their own: they keep that message's visibility.
    """

    message: StoredMessage
    ephemeral: bool
    callback_type: int | None = None


@dataclass(eq=False)
class FakeInteraction:
    """One interaction the test dispatched, and everything the bot did with it."""

    id: int
    token: str
    type: int
    application_id: int
    user: FakeUser
    channel: FakeChannel
    guild: FakeGuild | None
    locale: str
    payload: JSON
    #: Loop times (``asyncio`` clock): when it was sent, when the 3 s window closes, and
    #: when the token stops working.
    dispatched_at: float
    deadline_at: float
    token_expires_at: float
    _notifier: Notifier = field(repr=False)
    _clock: Callable[[], float] = field(repr=False)
    #: The message a component interaction came from.
    message: StoredMessage | None = None
    response_type: int | None = None
    response_data: JSON | None = None
    #: Loop time when the first response (ack or defer) arrived.
    responded_at: float | None = None
    original: StoredMessage | None = None
    followups: list[StoredMessage] = field(default_factory=list)
    errors: list[ApiError] = field(default_factory=list)
    #: Every message answer (callback and followups), in order.
    answers: list[Answer] = field(default_factory=list)

    @property
    def name(self) -> str:
        """Command name, or the component's custom_id."""
        data = self.payload.get("data") or {}
        return str(data.get("name") or data.get("custom_id") or "")

    @property
    def acknowledged(self) -> bool:
        return self.response_type is not None

    @property
    def answered_ephemerally(self) -> bool:
        """Answered with at least one message, and only ever privately (flags 64)."""
        return bool(self.answers) and all(a.ephemeral for a in self.answers)

    @property
    def public_answers(self) -> list[Answer]:
        """The answers everyone in the channel could see."""
        return [a for a in self.answers if not a.ephemeral]

    @property
    def token_expired(self) -> bool:
        return self._clock() >= self.token_expires_at

    @property
    def autocomplete_choices(self) -> list[JSON] | None:
        if self.response_type != 8 or self.response_data is None:
            return None
        return list(self.response_data.get("choices") or [])

    @property
    def modal(self) -> JSON | None:
        """The modal the bot opened (callback type 9), as sent."""
        return self.response_data if self.response_type == 9 else None

    def expire_token(self) -> None:
        """Make the token invalid now: webhook calls answer 401 / 50027 from here on.

        discord.py's ``Interaction.is_expired()`` still reads the snowflake time and will
        disagree; use ``token_ttl`` when that must line up too.
        """
        self.token_expires_at = self._clock()
        self._notifier.bump()

    async def wait_for_response(self, timeout: float = 5.0) -> int:
        """The accepted callback type (4 message, 5 deferred, 6, 7, 8, 9...)."""
        return await self._notifier.wait_for(
            lambda: self.response_type, timeout, f"a response to interaction {self.name!r}"
        )

    async def wait_for_original(
        self, predicate: Callable[[StoredMessage], bool] | None = None, timeout: float = 5.0
    ) -> StoredMessage:
        """The original response once it exists (and satisfies ``predicate``)."""

        def ready() -> StoredMessage | None:
            message = self.original
            if message is None or (predicate is not None and not predicate(message)):
                return None
            return message

        return await self._notifier.wait_for(
            ready, timeout, f"the original response of {self.name!r}"
        )

    async def wait_for_followups(self, count: int = 1, timeout: float = 5.0) -> list[StoredMessage]:
        def ready() -> list[StoredMessage] | None:
            return list(self.followups) if len(self.followups) >= count else None

        return await self._notifier.wait_for(
            ready, timeout, f"{count} followup(s) of {self.name!r}"
        )

    async def wait_for_error(self, code: int | None = None, timeout: float = 5.0) -> ApiError:
        """The first error answered for this interaction (with that Discord ``code``)."""

        def found() -> ApiError | None:
            return next((e for e in self.errors if code is None or e.code == code), None)

        return await self._notifier.wait_for(found, timeout, f"error {code} on {self.name!r}")
