"""The fake's world: users, guilds, channels, messages, commands and interactions.

REST handlers, the gateway and the test-driving API all mutate the world through
:class:`FakeState`, which bumps the notifier after every change.
"""

from __future__ import annotations

import asyncio
import mimetypes
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..loopback import Notifier
from . import errors
from .errors import DiscordAPIError, FormErrors
from .models import (
    DM,
    EPHEMERAL,
    GUILD_TEXT,
    LOADING,
    FakeChannel,
    FakeGuild,
    FakeInteraction,
    FakeUser,
    MessageSnapshot,
    RequestRecord,
    SnowflakeFactory,
    StoredAttachment,
    StoredMessage,
)
from .validation import IS_COMPONENTS_V2

JSON = dict[str, Any]

CHAT_INPUT = 1
#: Discord's interaction token lifetime; the fake's ``token_ttl`` defaults to it.
TOKEN_LIFETIME = 15 * 60.0
SUPPRESS_EMBEDS = 1 << 2
SUPPRESS_NOTIFICATIONS = 1 << 12
CHANNEL_MESSAGE_FLAGS = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2
INTERACTION_MESSAGE_FLAGS = CHANNEL_MESSAGE_FLAGS | EPHEMERAL
EDITABLE_FLAGS = SUPPRESS_EMBEDS | IS_COMPONENTS_V2


@dataclass
class UploadedFile:
    """A ``files[n]`` part of a multipart request."""

    index: int
    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass
class MessageBody:
    """A decoded request body: the JSON payload plus any uploaded files."""

    payload: JSON
    files: list[UploadedFile] = field(default_factory=list)


def guess_content_type(filename: str, declared: str | None) -> str:
    """Discord reports a type guessed from the file; discord.py always declares octet-stream."""
    guessed, _ = mimetypes.guess_type(filename)
    return guessed or declared or "application/octet-stream"


class FakeState:
    def __init__(
        self,
        *,
        token: str,
        bot_name: str,
        deadline: float,
        token_ttl: float,
        attachment_size_limit: int,
    ) -> None:
        self.token = token
        self.deadline = deadline
        self.token_ttl = token_ttl
        self.attachment_size_limit = attachment_size_limit
        self.new_id = SnowflakeFactory()
        self.notifier = Notifier("fake Discord")
        #: Set when the server starts; attachment URLs are built from it.
        self.cdn_base = ""
        self.bot_user = FakeUser(self.new_id(), bot_name, bot=True)
        #: Modern applications share their id with their bot user.
        self.application_id = self.bot_user.id
        self.users: dict[int, FakeUser] = {self.bot_user.id: self.bot_user}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.messages: dict[int, StoredMessage] = {}
        #: ``(author id, nonce)`` → the message a send with ``enforce_nonce`` created.
        self.nonces: dict[tuple[int, str], StoredMessage] = {}
        self.attachments: dict[int, StoredAttachment] = {}
        self.interactions: dict[int, FakeInteraction] = {}
        self.interactions_by_token: dict[str, FakeInteraction] = {}
        self.global_commands: list[JSON] = []
        self.guild_commands: dict[int, list[JSON]] = {}
        self.requests: list[RequestRecord] = []
        self._command_ids: dict[tuple[int | None, int, str], int] = {}

    @staticmethod
    def clock() -> float:
        return asyncio.get_running_loop().time()

    def changed(self) -> None:
        self.notifier.bump()

    # -- users, guilds, channels ---------------------------------------------------------

    def add_user(self, username: str, *, accepts_dms: bool = True) -> FakeUser:
        user = FakeUser(self.new_id(), username, accepts_dms=accepts_dms)
        self.users[user.id] = user
        return user

    def add_guild(
        self,
        name: str,
        *,
        owner: FakeUser,
        locale: str = "en-US",
        shard: tuple[int, int] | None = None,
    ) -> FakeGuild:
        """A guild; ``shard=(id, count)`` picks an id that shard serves."""
        guild_id = self.new_id() if shard is None else self.new_id.on_shard(*shard)
        guild = FakeGuild(guild_id, name, owner.id, preferred_locale=locale)
        guild.members.extend([self.bot_user, owner])
        self.guilds[guild.id] = guild
        return guild

    def add_text_channel(self, guild: FakeGuild, name: str) -> FakeChannel:
        channel = FakeChannel(
            self.new_id(), GUILD_TEXT, name, guild.id, position=len(guild.channel_ids)
        )
        guild.channel_ids.append(channel.id)
        self.channels[channel.id] = channel
        return channel

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        """The bot's DM channel with ``user``, created on first use like Discord does."""
        for channel in self.channels.values():
            if channel.recipient is user:
                return channel
        channel = FakeChannel(self.new_id(), DM, recipient=user)
        self.channels[channel.id] = channel
        self.changed()
        return channel

    def channel(self, channel_id: int) -> FakeChannel:
        try:
            return self.channels[channel_id]
        except KeyError:
            raise DiscordAPIError(errors.UNKNOWN_CHANNEL) from None

    def user(self, user_id: int) -> FakeUser:
        try:
            return self.users[user_id]
        except KeyError:
            raise DiscordAPIError(errors.UNKNOWN_USER) from None

    def remove_channel(self, channel_id: int) -> FakeChannel:
        channel = self.channels.pop(channel_id)
        if channel.guild_id is not None:
            self.guilds[channel.guild_id].channel_ids.remove(channel_id)
        self.changed()
        return channel

    def guild_payload(self, guild: FakeGuild, *, newly_joined: bool = False) -> JSON:
        """A full GUILD_CREATE payload, with channels and members so the client caches them.

        At startup ``unavailable`` is false (the guild "became available"); for a guild the
        bot just joined the key is absent, which discord.py turns into ``on_guild_join``.
        """
        everyone = {
            "id": str(guild.id),
            "name": "@everyone",
            "permissions": str(guild.member_permissions(self.bot_user)),
            "position": 0,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        payload: JSON = {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "owner_id": str(guild.owner_id),
            "afk_channel_id": None,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [everyone],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": None,
            "preferred_locale": guild.preferred_locale,
            "premium_tier": 0,
            "nsfw_level": 0,
            "large": False,
            "joined_at": guild.joined_at.isoformat(),
            "member_count": len(guild.members),
            "members": [guild.member_payload(user) for user in guild.members],
            "channels": [
                self.channels[cid].to_payload(self.bot_user.id) for cid in guild.channel_ids
            ],
            "threads": [],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
        }
        if not newly_joined:
            payload["unavailable"] = False
        return payload

    # -- attachments and messages --------------------------------------------------------

    def new_attachment(
        self,
        channel_id: int,
        filename: str,
        content_type: str,
        data: bytes,
        *,
        description: str | None = None,
        ephemeral: bool = False,
    ) -> StoredAttachment:
        attachment_id = self.new_id()
        attachment = StoredAttachment(
            attachment_id,
            filename,
            content_type,
            data,
            url=f"{self.cdn_base}/attachments/{channel_id}/{attachment_id}/{filename}",
            description=description,
            ephemeral=ephemeral,
        )
        self.attachments[attachment_id] = attachment
        return attachment

    def check_file_sizes(self, files: list[UploadedFile]) -> None:
        if any(len(f.data) > self.attachment_size_limit for f in files):
            raise DiscordAPIError(errors.FILE_TOO_LARGE)

    def _attachments(
        self,
        channel_id: int,
        body: MessageBody,
        existing: list[StoredAttachment],
    ) -> list[StoredAttachment]:
        """Resolve the ``attachments`` array: ids of kept attachments or ``files[n]`` indexes.

        Without the array, uploads are appended to what the message already had.
        """
        uploads = {f.index: f for f in body.files}
        spec = body.payload.get("attachments")
        if spec is None:
            kept = list(existing)
        else:
            kept = []
            by_id = {str(a.id): a for a in existing}
            problems = FormErrors()
            for position, item in enumerate(spec):
                key = str(item.get("id"))
                if key in by_id:
                    kept.append(by_id[key])
                    continue
                upload = uploads.pop(int(key), None) if key.isdigit() else None
                if upload is None:
                    problems.add(
                        ["attachments", position], "ATTACHMENT_NOT_FOUND", "Unknown attachment"
                    )
                    continue
                filename = item.get("filename") or upload.filename
                kept.append(
                    self.new_attachment(
                        channel_id,
                        filename,
                        guess_content_type(filename, upload.content_type),
                        upload.data,
                        description=item.get("description"),
                    )
                )
            problems.raise_if_any()
        for upload in uploads.values():
            kept.append(
                self.new_attachment(
                    channel_id,
                    upload.filename,
                    guess_content_type(upload.filename, upload.content_type),
                    upload.data,
                )
            )
        return kept

    def create_message(
        self,
        channel: FakeChannel,
        author: FakeUser,
        body: MessageBody,
        *,
        allowed_flags: int = CHANNEL_MESSAGE_FLAGS,
        extra_flags: int = 0,
        mentions: list[FakeUser] | None = None,
        webhook_id: int | None = None,
        interaction_metadata: JSON | None = None,
        message_type: int = 0,
        allow_empty: bool = False,
    ) -> StoredMessage:
        payload = body.payload
        snapshot = MessageSnapshot(
            content=payload.get("content") or "",
            embeds=list(payload.get("embeds") or []),
            components=list(payload.get("components") or []),
            attachments=self._attachments(channel.id, body, []),
            flags=(int(payload.get("flags") or 0) & allowed_flags) | extra_flags,
        )
        if not allow_empty:
            _reject_empty(snapshot)
        reference = payload.get("message_reference")
        message = StoredMessage(
            id=self.new_id(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=author,
            history=[snapshot],
            mentions=list(mentions or []),
            webhook_id=webhook_id,
            interaction_metadata=interaction_metadata,
            message_reference=reference,
            message_type=message_type,
        )
        self.messages[message.id] = message
        self.changed()
        return message

    def edit_message(self, message: StoredMessage, body: MessageBody) -> StoredMessage:
        """Apply a PATCH: absent fields stay, ``null`` clears, the loading flag goes away."""
        payload = body.payload
        before = message.current
        flags = before.flags & ~LOADING
        if "flags" in payload:
            flags = (flags & ~EDITABLE_FLAGS) | (int(payload["flags"] or 0) & EDITABLE_FLAGS)
        uploads_or_spec = bool(body.files) or "attachments" in payload
        snapshot = MessageSnapshot(
            content=(payload["content"] or "") if "content" in payload else before.content,
            embeds=list(payload["embeds"] or []) if "embeds" in payload else before.embeds,
            components=(
                list(payload["components"] or []) if "components" in payload else before.components
            ),
            attachments=(
                self._attachments(message.channel_id, body, before.attachments)
                if uploads_or_spec
                else before.attachments
            ),
            flags=flags,
            edited_at=datetime.now(UTC),
        )
        _reject_empty(snapshot)
        message.history.append(snapshot)
        self.changed()
        return message

    def delete_message(self, message: StoredMessage) -> None:
        message.deleted = True
        self.changed()

    def message_in(self, channel_id: int, message_id: int) -> StoredMessage:
        message = self.messages.get(message_id)
        if message is None or message.deleted or message.channel_id != channel_id:
            raise DiscordAPIError(errors.UNKNOWN_MESSAGE)
        return message

    def channel_messages(self, channel_id: int) -> list[StoredMessage]:
        return [m for m in self.messages.values() if m.channel_id == channel_id and not m.deleted]

    # -- application commands ------------------------------------------------------------

    def store_commands(self, guild_id: int | None, commands: list[JSON]) -> list[JSON]:
        """Bulk overwrite; a command keeps its id across syncs while its name and type stay."""
        stored = []
        for command in commands:
            kind = int(command.get("type") or CHAT_INPUT)
            key = (guild_id, kind, str(command["name"]))
            command_id = self._command_ids.setdefault(key, self.new_id())
            item = {
                "description": "",
                "options": [],
                "default_member_permissions": None,
                "nsfw": False,
                **command,
                "id": str(command_id),
                "type": kind,
                "application_id": str(self.application_id),
                "version": str(self.new_id()),
            }
            if guild_id is not None:
                item["guild_id"] = str(guild_id)
            stored.append(item)
        if guild_id is None:
            self.global_commands = stored
        else:
            self.guild_commands[guild_id] = stored
        self.changed()
        return stored

    def find_command(self, name: str, channel: FakeChannel) -> JSON:
        """The slash command a user in ``channel`` gets for ``name``: guild first, then global."""
        candidates = list(self.global_commands)
        if channel.guild_id is not None:
            candidates = self.guild_commands.get(channel.guild_id, []) + candidates
        for command in candidates:
            if command["name"] != name or command["type"] != CHAT_INPUT:
                continue
            if channel.is_dm and not _usable_in_dms(command):
                continue
            return command
        where = "this DM" if channel.is_dm else f"guild {channel.guild_id}"
        raise LookupError(f"no synced command {name!r} is available in {where}")

    # -- interactions --------------------------------------------------------------------

    def new_interaction(
        self,
        *,
        kind: int,
        user: FakeUser,
        channel: FakeChannel,
        locale: str,
        data: JSON,
        message: StoredMessage | None = None,
    ) -> FakeInteraction:
        now = self.clock()
        # discord.py computes expires_at as the snowflake time + 15 min; back-dating the id
        # makes that agree with a shortened token_ttl.
        interaction_id = self.new_id(time.time() - (TOKEN_LIFETIME - self.token_ttl))
        token = f"fake-interaction-{secrets.token_urlsafe(24)}"
        guild = self.guilds[channel.guild_id] if channel.guild_id is not None else None
        payload: JSON = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "token": token,
            "version": 1,
            "locale": locale,
            "channel_id": str(channel.id),
            "channel": channel.to_payload(self.bot_user.id),
            "app_permissions": str(channel.bot_permissions),
            "entitlements": [],
            "attachment_size_limit": self.attachment_size_limit,
        }
        if guild is not None:
            member = guild.member_payload(user)
            member["permissions"] = str(guild.member_permissions(user))
            payload |= {
                "guild_id": str(guild.id),
                "guild": {"id": str(guild.id), "locale": guild.preferred_locale, "features": []},
                "guild_locale": guild.preferred_locale,
                "member": member,
                "authorizing_integration_owners": {"0": str(guild.id)},
                "context": 0,
            }
        else:
            payload |= {
                "user": user.to_payload(),
                "authorizing_integration_owners": {"0": "0"},
                "context": 1,
            }
        if message is not None:
            payload["message"] = message.to_payload()
        interaction = FakeInteraction(
            id=interaction_id,
            token=token,
            type=kind,
            application_id=self.application_id,
            user=user,
            channel=channel,
            guild=guild,
            locale=locale,
            payload=payload,
            dispatched_at=now,
            deadline_at=now + self.deadline,
            token_expires_at=now + self.token_ttl,
            _notifier=self.notifier,
            _clock=self.clock,
            message=message,
        )
        self.interactions[interaction_id] = interaction
        self.interactions_by_token[token] = interaction
        self.changed()
        return interaction


def _reject_empty(snapshot: MessageSnapshot) -> None:
    if not (snapshot.content or snapshot.embeds or snapshot.components or snapshot.attachments):
        raise DiscordAPIError(errors.EMPTY_MESSAGE)


def _usable_in_dms(command: JSON) -> bool:
    if "guild_id" in command:
        return False
    contexts = command.get("contexts")
    if contexts is not None:
        return 1 in contexts
    return command.get("dm_permission") is not False
