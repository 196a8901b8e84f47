"""The Discord adapter: a discord.py client whose commands, buttons and messages feed the engine.

Every interaction is stored and then answered (deferred) inside Discord's 3-second window; the
engine's work runs in a task the base adapter keeps. discord.py owns the gateway, REST and the
commands' registration; a slash command is read from the raw ``INTERACTION_CREATE`` payload
(:meth:`DiscordAdapter.interaction_create`) and answered with discord.py's interaction callback
request: building its ``Interaction``, the command tree's call and the callback's response
objects were a fifth of the bot's CPU per acknowledgement (1.02 ms, 0.80 without). Buttons and
autocomplete go through discord.py as before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, ClassVar

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route
from discord.webhook.async_ import async_context, interaction_response_params

from bot.base import BaseAdapter, verdict_key
from bot.discord.commands import CommandTranslator, Invoked, build_commands
from bot.discord.config import DiscordSettings
from bot.discord.event import (
    PLATFORM,
    FileInfo,
    Invocation,
    Rejected,
    Target,
    check_images,
    command_request,
    message_request,
    press,
    raw_invocation,
)
from bot.discord.replier import EDIT_INTERVAL, ActionButton, Courier, DiscordReplier
from core.door import ActionResult, Door, Platform
from core.ima.upload import read_limited
from core.metrics import RATE_LIMITED
from core.replier import Reply, Stage

if TYPE_CHECKING:  # discord.types can't be imported before discord itself
    from discord.types.interactions import InteractionCallback

log = logging.getLogger(__name__)

#: Discord's upload limit where nothing better is known (a DM without an interaction).
DEFAULT_FILE_LIMIT = 10 * 1024 * 1024
#: Discord's interaction types and callback types (the raw values of its API).
APPLICATION_COMMAND = 2
CHAT_INPUT = 1
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
#: The message flag of a private (ephemeral) answer.
EPHEMERAL = 64

Interaction = discord.Interaction[Any]


class _Client(discord.Client):
    """discord.py's client, handing events and button presses to the adapter."""

    def __init__(self, adapter: DiscordAdapter, **options: Any) -> None:
        super().__init__(**options)
        self.adapter = adapter

    async def on_ready(self) -> None:
        self.adapter.ready.set()

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter.on_message(message)

    async def on_button(self, interaction: Interaction, action: str) -> None:
        await self.adapter.on_button(interaction, action)


class _ShardedClient(_Client, discord.AutoShardedClient):
    """The same, running the shards ``DISCORD_SHARD_IDS`` of ``DISCORD_SHARD_COUNT``: Discord
    sends each shard the events of its guilds (``(guild_id >> 22) % count``), DMs to shard 0."""


class DiscordAdapter(BaseAdapter):
    name: ClassVar[str] = PLATFORM
    #: An interaction not answered within 3 s fails for good ("The application did not respond").
    ack_deadline: ClassVar[float | None] = 2.5

    def __init__(
        self,
        door: Door,
        settings: DiscordSettings,
        *,
        edit_interval: float = EDIT_INTERVAL,
        ready_timeout: float = 60.0,
        guild_ready_timeout: float = 2.0,
    ) -> None:
        super().__init__(door)
        if settings.token is None:
            raise ValueError("DISCORD_TOKEN is not set")
        self._token = settings.token
        self.settings = settings
        self.edit_interval = edit_interval
        self.ready_timeout = ready_timeout
        self.ready = asyncio.Event()
        # Slash commands and buttons arrive whatever the intents; messages only when wanted.
        free_text = settings.message_content
        intents = discord.Intents(
            guilds=True, guild_messages=free_text, dm_messages=free_text, message_content=free_text
        )
        sharding: dict[str, Any] = {}
        if settings.shard_count is not None:
            sharding = {"shard_count": settings.shard_count, "shard_ids": settings.shard_ids}
        self.client = (_ShardedClient if sharding else _Client)(
            self,
            **sharding,
            intents=intents,
            guild_ready_timeout=guild_ready_timeout,
            max_messages=None,
            chunk_guilds_at_startup=False,
            allowed_mentions=discord.AllowedMentions.none(),
            http_trace=_counting_rate_limits(),
        )
        self.client.add_dynamic_items(ActionButton)
        self.tree = app_commands.CommandTree(self.client)
        self.commands = build_commands(door)
        for command in self.commands.declared:
            self.tree.add_command(command)
        # The gateway hands each event's decoded JSON to the parser of its name.
        parsers: dict[str, Callable[[Any], None]] = self.client._connection.parsers
        self._parse_interaction = parsers["INTERACTION_CREATE"]
        parsers["INTERACTION_CREATE"] = self.interaction_create
        self._http: aiohttp.ClientSession | None = None
        #: Interaction callbacks, with their 429s counted as on discord.py's own session.
        self._callbacks: aiohttp.ClientSession | None = None
        self._courier: Courier | None = None
        self._connection: asyncio.Task[None] | None = None

    @property
    def courier(self) -> Courier:
        if self._courier is None:
            raise RuntimeError("the Discord adapter is not started")
        return self._courier

    # ── lifecycle ─────────────────────────────────────────────────────────────────────────

    def platform(self) -> Platform:
        return Platform(PLATFORM, self._replier_for, self._fetch, self.settings.access())

    async def connect(self) -> None:
        """Log in, sync the commands, connect and wait until ready."""
        # discord.py reads both from class attributes each time it builds a request or connects.
        Route.BASE = self.settings.api_base
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.settings.gateway_url)
        self._http = aiohttp.ClientSession()
        self._callbacks = aiohttp.ClientSession(trace_configs=[_counting_rate_limits()])
        self._courier = Courier(
            self.client, self._http, self.door.text, edit_interval=self.edit_interval
        )
        await self.client.login(self._token.get_secret_value())
        await self.tree.set_translator(CommandTranslator(self.door.text))
        await self._sync_commands()
        self._connection = asyncio.create_task(self.client.connect(), name="discord-gateway")
        await self._until_ready(self._connection)

    async def disconnect(self) -> None:
        await self.client.close()
        if self._connection is not None:
            await asyncio.wait({self._connection}, timeout=5)
            if not self._connection.done():
                self._connection.cancel()
        for session in (self._http, self._callbacks):
            if session is not None:
                await session.close()

    def healthy(self) -> bool:
        return self.accepting and self.client.is_ready() and not self.client.is_closed()

    async def _until_ready(self, connection: asyncio.Task[None]) -> None:
        waiter = asyncio.create_task(self.ready.wait())
        done, _ = await asyncio.wait(
            {waiter, connection}, timeout=self.ready_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if waiter in done:
            return
        waiter.cancel()
        if connection in done:
            connection.result()  # a refused token or intent: raise it
            raise RuntimeError("the Discord connection ended before it was ready")
        log.warning("Discord is not ready after %ss; still trying", self.ready_timeout)

    async def _sync_commands(self) -> None:
        """Guilds in ``DISCORD_GUILD_IDS`` get the commands at once; else they are global."""
        try:
            if not self.settings.guild_ids:
                await self.tree.sync()
                return
            for guild_id in self.settings.guild_ids:
                guild = discord.Object(guild_id)
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
        except discord.HTTPException:
            log.exception("slash commands could not be synced; the last synced ones stay")

    # ── slash commands, from the raw event ───────────────────────────────────────────────

    def interaction_create(self, data: dict[str, Any]) -> None:
        """``INTERACTION_CREATE``: a slash command of ours is read and handed on here; every
        other interaction (buttons, autocomplete) goes to discord.py's own parser."""
        inner = data.get("data") or {}
        if data.get("type") != APPLICATION_COMMAND or inner.get("type", CHAT_INPUT) != CHAT_INPUT:
            self._parse_interaction(data)
            return
        try:
            invoked = self.commands.read(inner)
            if invoked is None:  # not one of ours: discord.py's tree says so in its log
                self._parse_interaction(data)
                return
            self._slash(raw_invocation(data), invoked)
        except Exception:  # a payload not as documented: logged, the gateway goes on
            log.exception("a slash command could not be read")

    def _slash(self, invocation: Invocation, invoked: Invoked) -> None:
        locale = self.door.locale_for(invocation.locale)
        try:
            files = invoked.pictures()
        except Rejected as rejected:
            text = self.door.text(locale, rejected.key, **rejected.values)
            self._spawn(self._say(invocation, text))
            return
        ephemeral = invoked.private
        target = invocation.target(locale, ephemeral=ephemeral)
        request = command_request(
            invocation, target, prompt=invoked.prompt, options=invoked.options, files=files
        )
        replier = DiscordReplier(self.courier, target)

        async def defer() -> None:
            """Discord's acknowledgement: "thinking…", which the first reply fills."""
            answer = await self._respond(
                invocation, DEFERRED_CHANNEL_MESSAGE, {"flags": EPHEMERAL} if ephemeral else None
            )
            message_id = answer["interaction"].get("response_message_id")
            replier.fill(int(message_id) if message_id is not None else None)

        if not self.submit(request, replier, defer):
            self._spawn(self._say(invocation, self.door.text(locale, "discord.restarting")))

    async def _say(self, invocation: Invocation, text: str) -> None:
        """A private answer to the interaction, instead of deferring it."""
        mentions = discord.AllowedMentions.none().to_dict()  # as the client's own messages
        data = {"content": text, "flags": EPHEMERAL, "allowed_mentions": mentions}
        await self._respond(invocation, CHANNEL_MESSAGE, data)

    async def _respond(
        self, invocation: Invocation, kind: int, data: dict[str, Any] | None
    ) -> InteractionCallback:
        """The interaction's callback, through discord.py's request (its rate-limit waits and
        errors); Discord's answer as it sent it."""
        if self._callbacks is None:
            raise RuntimeError("the Discord adapter is not started")
        return await async_context.get().create_interaction_response(
            invocation.id,
            invocation.token,
            session=self._callbacks,
            params=interaction_response_params(kind, data),
        )

    async def on_button(self, interaction: Interaction, action: str) -> None:
        """A press of an :class:`ActionButton`; what it starts comes as new messages, private
        when the button was on a private message (a result shown from ``/history``, a
        question only the person sees)."""
        invocation = _invocation(interaction)
        pressed_on = interaction.message
        private = pressed_on is not None and pressed_on.flags.ephemeral
        target = invocation.target(self._locale(interaction), ephemeral=private)
        replier = DiscordReplier(self.courier, target)

        async def verdict(result: ActionResult) -> None:
            text = self.door.text(target.locale, verdict_key(result))
            await interaction.followup.send(text, ephemeral=True)

        if not self.accepting:
            self._restarting(interaction)
            return
        await interaction.response.defer()
        self.submit_press(press(invocation, action, target), replier, verdict)

    async def on_message(self, message: discord.Message) -> None:
        """Free text, when enabled: DMs, and messages that mention the bot."""
        me = self.client.user
        if not self.settings.message_content or me is None or message.author.bot:
            return
        if message.guild is not None and all(user.id != me.id for user in message.mentions):
            return
        files = [FileInfo(a.filename, a.url, a.size, a.content_type) for a in message.attachments]
        reference = message.reference
        request = message_request(
            message_id=message.id,
            user_id=message.author.id,
            guild_id=message.guild.id if message.guild else None,
            channel_id=message.channel.id,
            content=message.content,
            bot_id=me.id,
            files=files,
            file_limit=message.guild.filesize_limit if message.guild else DEFAULT_FILE_LIMIT,
            locale=self.door.locale_for(None, message.content),
            reply_to=reference.message_id if reference is not None else None,
        )
        replier = DiscordReplier(self.courier, Target.from_json(request.reply_target))
        try:
            check_images(files)
        except Rejected as rejected:
            locale = Target.from_json(request.reply_target).locale
            text = self.door.text(locale, rejected.key, **rejected.values)
            await replier.send(Reply(Stage.INFO, text, locale=locale))
            return
        if not self.submit(request, replier, _nothing):
            return  # while restarting, free text is left unanswered like any offline bot

    # ── helpers ───────────────────────────────────────────────────────────────────────────

    def _restarting(self, interaction: Interaction) -> None:
        text = self.door.text(self._locale(interaction), "discord.restarting")

        async def say() -> None:
            await interaction.response.send_message(text, ephemeral=True)

        self._spawn(say())

    def _locale(self, interaction: Interaction) -> str:
        return self.door.locale_for(interaction.locale.value)

    def _replier_for(self, target: Mapping[str, Any]) -> DiscordReplier:
        return DiscordReplier(self.courier, Target.from_json(target))

    async def _fetch(self, ref: Mapping[str, Any], max_bytes: int) -> bytes:
        if self._http is None:
            raise RuntimeError("the Discord adapter is not started")
        url = str(ref.get("url", ""))
        return await read_limited(self._http, url, max_bytes, hosts=self.settings.cdn_hosts)


def _counting_rate_limits() -> aiohttp.TraceConfig:
    """discord.py waits out Discord's 429 answers by itself; this counts them, on every REST
    call it makes (interaction responses and followups too)."""

    async def ended(
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        if params.response.status == 429:
            RATE_LIMITED.labels(PLATFORM).inc()

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(ended)
    return trace


async def _nothing() -> None:
    """A free-text message needs no acknowledgement."""


def _invocation(interaction: Interaction) -> Invocation:
    return Invocation(
        id=interaction.id,
        user_id=interaction.user.id,
        guild_id=interaction.guild_id,
        channel_id=interaction.channel_id,
        locale=interaction.locale.value,
        application_id=interaction.application_id,
        token=interaction.token,
        created_at=interaction.created_at.timestamp(),
        file_limit=interaction.filesize_limit,
    )
