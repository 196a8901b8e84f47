"""``FakeDiscord``: the in-process server plus the API tests drive and inspect it with."""

# The waiting helpers take a timeout on purpose: a test double must never hang a test,
# and its own timeout error names what was awaited.
# ruff: noqa: ASYNC109

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web

from ..loopback import MAX_REQUEST_BYTES, LoopbackServer
from .errors import DiscordAPIError, ErrorSpec
from .gateway import PRIVILEGED_INTENTS, Gateway, GatewaySession
from .invocations import Upload, command_data
from .models import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    FakeChannel,
    FakeGuild,
    FakeInteraction,
    FakeUser,
    RequestRecord,
    StoredMessage,
)
from .rest import API_PREFIX, RestApi, rate_limit_error
from .state import FakeState, MessageBody, UploadedFile
from .validation import iter_components

JSON = dict[str, Any]
T = TypeVar("T")

BUTTON = 2
TEXT_INPUT = 4
DEFAULT_TOKEN = "fake-bot-token"
#: Not ``/gateway``: that is the REST route under the API prefix, and the request log and
#: error injection name routes without the prefix.
GATEWAY_PATH = "/ws"


class FakeDiscord:
    """A loopback Discord for the real discord.py client.

    ``async with FakeDiscord() as fake:`` starts REST (``fake.api_base``), the gateway
    (``fake.gateway_url``) and an attachment CDN on 127.0.0.1. A guild, a text channel and a
    user exist from the start (``default_guild``, ``default_channel``, ``default_user``; the
    user owns the guild, so its interactions carry every permission). ``deadline`` and
    ``token_ttl`` may be changed at any time and apply to interactions dispatched afterwards;
    ``attachment_size_limit`` applies at once.

    Clients may shard, in one process or several: ``shards`` is the count ``GET /gateway/bot``
    recommends (what ``AutoShardedClient()`` without ``shard_count`` runs), and each IDENTIFY
    spends one of ``session_start_limit`` session starts. Guild events go to the session of the
    guild's shard and DMs to shard 0 (see :mod:`.gateway`); ``add_guild(shard=...)`` makes a
    guild on a given shard.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_name: str = "IMA Bot",
        deadline: float = 3.0,
        token_ttl: float = 900.0,
        attachment_size_limit: int = 10 * 1024 * 1024,
        heartbeat_interval: float = 41.25,
        privileged_intents: int = PRIVILEGED_INTENTS,
        shards: int = 1,
        session_start_limit: int = 1000,
    ) -> None:
        self.state = FakeState(
            token=token,
            bot_name=bot_name,
            deadline=deadline,
            token_ttl=token_ttl,
            attachment_size_limit=attachment_size_limit,
        )
        self.gateway = Gateway(
            self.state,
            heartbeat_interval=heartbeat_interval,
            privileged_intents=privileged_intents,
            recommended_shards=shards,
            session_start_limit=session_start_limit,
        )
        self.rest = RestApi(self.state, self.gateway)
        self.default_user = self.state.add_user("tester")
        self.default_guild = self.state.add_guild("IMA Test Guild", owner=self.default_user)
        self.default_channel = self.state.add_text_channel(self.default_guild, "general")
        self._server: LoopbackServer | None = None
        self._base_url = ""

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(middlewares=[self.rest.middleware], client_max_size=MAX_REQUEST_BYTES)
        app.add_routes(self.rest.route_defs)
        app.router.add_get(GATEWAY_PATH, self.gateway.handle)
        self._server = LoopbackServer(app)
        self._base_url = await self._server.start()
        self.state.cdn_base = f"{self._base_url}/cdn"
        self.gateway.url = f"{self._base_url.replace('http', 'ws', 1)}{GATEWAY_PATH}"

    async def close(self) -> None:
        if self._server is not None:
            await self.gateway.close()
            await self._server.stop()
            self._server = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
        if exc is None and self.rest.internal_errors:
            raise AssertionError(
                "fake Discord hit internal errors:\n" + "\n".join(self.rest.internal_errors)
            )

    # -- configuration -------------------------------------------------------------------

    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE``."""
        return self._started(f"{self._base_url}{API_PREFIX}")

    @property
    def gateway_url(self) -> str:
        """Value for ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` (as a ``yarl.URL``)."""
        return self._started(self.gateway.url)

    def _started(self, value: str) -> str:
        if not self._base_url:
            raise RuntimeError("FakeDiscord is not started")
        return value

    @property
    def token(self) -> str:
        return self.state.token

    @property
    def application_id(self) -> int:
        return self.state.application_id

    @property
    def bot_user(self) -> FakeUser:
        return self.state.bot_user

    @property
    def deadline(self) -> float:
        return self.state.deadline

    @deadline.setter
    def deadline(self, seconds: float) -> None:
        self.state.deadline = seconds

    @property
    def token_ttl(self) -> float:
        return self.state.token_ttl

    @token_ttl.setter
    def token_ttl(self, seconds: float) -> None:
        self.state.token_ttl = seconds

    @property
    def attachment_size_limit(self) -> int:
        return self.state.attachment_size_limit

    @attachment_size_limit.setter
    def attachment_size_limit(self, size: int) -> None:
        self.state.attachment_size_limit = size

    def add_user(self, username: str, *, accepts_dms: bool = True) -> FakeUser:
        """A user who is a member of every guild of the fake."""
        user = self.state.add_user(username, accepts_dms=accepts_dms)
        for guild in self.state.guilds.values():
            guild.members.append(user)
        return user

    async def add_guild(
        self,
        name: str,
        *,
        channel_names: Sequence[str] = ("general",),
        shard: tuple[int, int] | None = None,
    ) -> FakeGuild:
        """A guild owned by ``default_user``; the session of its shard gets a GUILD_CREATE.

        ``shard=(id, count)`` makes it a guild that shard serves (see ``FakeGuild.shard_id``).
        """
        guild = self.state.add_guild(name, owner=self.default_user, shard=shard)
        for channel_name in channel_names:
            self.state.add_text_channel(guild, channel_name)
        payload = self.state.guild_payload(guild, newly_joined=True)
        await self.gateway.dispatch_for(guild.id, "GUILD_CREATE", payload)
        return guild

    async def add_text_channel(self, guild: FakeGuild, name: str) -> FakeChannel:
        channel = self.state.add_text_channel(guild, name)
        payload = channel.to_payload(self.bot_user.id)
        await self.gateway.dispatch_for(guild.id, "CHANNEL_CREATE", payload)
        return channel

    async def delete_channel(self, channel_id: int) -> None:
        """Remove a channel: REST calls on it answer 404 / 10003 afterwards."""
        channel = self.state.remove_channel(channel_id)
        if channel.guild_id is not None:
            payload = channel.to_payload(self.bot_user.id)
            await self.gateway.dispatch_for(channel.guild_id, "CHANNEL_DELETE", payload)

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        """The DM channel between the bot and ``user`` (created on first use)."""
        return self.state.dm_channel(user)

    def inject_error(
        self,
        method: str,
        route: str,
        *,
        status: int,
        code: int,
        message: str,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of a route with an error.

        ``route`` is the template without the API prefix, e.g.
        ``"/webhooks/{application_id}/{interaction_token}/messages/{message_id}"``.
        """
        self.rest.inject(method, route, DiscordAPIError(ErrorSpec(status, code, message)), times)

    def inject_rate_limit(
        self,
        method: str,
        route: str,
        *,
        retry_after: float = 0.05,
        times: int = 1,
        is_global: bool = False,
    ) -> None:
        """Answer the next ``times`` calls of a route with a retryable 429."""
        self.rest.inject(method, route, rate_limit_error(retry_after, is_global=is_global), times)

    # -- driving the bot -----------------------------------------------------------------

    async def dispatch(self, event: str, data: JSON) -> None:
        """Send a raw gateway event to every connected (or resumable) session, all shards."""
        if not await self.gateway.dispatch(event, data):
            raise RuntimeError(f"no client is connected to the fake gateway to receive {event}")

    async def _interact(
        self,
        kind: int,
        data: JSON,
        *,
        user: FakeUser | None,
        channel: FakeChannel,
        locale: str,
        message: StoredMessage | None = None,
    ) -> FakeInteraction:
        interaction = self.state.new_interaction(
            kind=kind,
            user=user or self.default_user,
            channel=channel,
            locale=locale,
            data=data,
            message=message,
        )
        sent = await self.gateway.dispatch_for(
            channel.guild_id, "INTERACTION_CREATE", interaction.payload
        )
        if not sent:
            where = "DMs" if channel.guild_id is None else f"guild {channel.guild_id}"
            raise RuntimeError(f"no client session of the fake gateway receives {where}")
        return interaction

    def _where(self, guild_id: int | None, channel_id: int | None) -> FakeChannel:
        """The channel of an interaction; a guild alone means its first text channel."""
        if channel_id is not None:
            channel = self.state.channels[channel_id]
            if guild_id is not None and channel.guild_id != guild_id:
                raise ValueError(f"channel {channel_id} is not in guild {guild_id}")
            return channel
        guild = self.state.guilds[guild_id] if guild_id is not None else self.default_guild
        return self.state.channels[guild.channel_ids[0]]

    async def send_slash_command(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        user: FakeUser | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        locale: str = "en-US",
        attachments: Sequence[Upload] = (),
    ) -> FakeInteraction:
        """A user runs a synced slash command (``"group sub"`` for subcommands).

        Option values: str/int/float/bool, ``FakeUser``, ``FakeChannel``, or an
        ``(filename, content_type, bytes)`` upload; ``attachments`` fill the attachment
        options not given in ``options``. Use ``channel_id=fake.dm_channel(user).id`` for DMs.
        """
        channel = self._where(guild_id, channel_id)
        data = command_data(self.state, name, channel, options or {}, attachments=attachments)
        return await self._interact(
            APPLICATION_COMMAND, data, user=user, channel=channel, locale=locale
        )

    async def send_autocomplete(
        self,
        name: str,
        focused_option: str,
        value: str,
        options: Mapping[str, Any] | None = None,
        *,
        user: FakeUser | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        locale: str = "en-US",
    ) -> FakeInteraction:
        """A user types ``value`` into ``focused_option``; read ``autocomplete_choices``."""
        channel = self._where(guild_id, channel_id)
        given = {**(options or {}), focused_option: value}
        data = command_data(self.state, name, channel, given, focused=focused_option)
        return await self._interact(AUTOCOMPLETE, data, user=user, channel=channel, locale=locale)

    async def press_button(
        self,
        message: StoredMessage,
        custom_id: str,
        *,
        user: FakeUser | None = None,
        locale: str = "en-US",
    ) -> FakeInteraction:
        """A user clicks an enabled button that is on ``message`` right now."""
        component = message.find_component(custom_id)
        if message.deleted or component is None or component.get("type") != BUTTON:
            raise LookupError(f"message {message.id} has no button {custom_id!r}")
        if component.get("disabled"):
            raise ValueError(f"button {custom_id!r} is disabled")
        channel = self.state.channels[message.channel_id]
        data = {"custom_id": custom_id, "component_type": BUTTON}
        return await self._interact(
            MESSAGE_COMPONENT, data, user=user, channel=channel, locale=locale, message=message
        )

    async def submit_modal(
        self, opened_by: FakeInteraction, values: Mapping[str, str]
    ) -> FakeInteraction:
        """The user fills in and submits the modal the bot answered ``opened_by`` with."""
        modal = opened_by.modal
        if modal is None:
            raise LookupError(f"interaction {opened_by.name!r} was not answered with a modal")
        inputs = [
            c for c in iter_components(modal.get("components") or []) if c.get("type") == TEXT_INPUT
        ]
        unknown = set(values) - {c["custom_id"] for c in inputs}
        missing = [
            c["custom_id"]
            for c in inputs
            if c.get("required", True) and not values.get(c["custom_id"], c.get("value"))
        ]
        if unknown or missing:
            raise ValueError(f"modal inputs: unknown {sorted(unknown)}, missing {missing}")
        rows = [
            {
                "type": 1,
                "components": [
                    {
                        "type": TEXT_INPUT,
                        "custom_id": c["custom_id"],
                        "value": values.get(c["custom_id"], c.get("value") or ""),
                    }
                ],
            }
            for c in inputs
        ]
        data = {"custom_id": modal["custom_id"], "components": rows}
        return await self._interact(
            MODAL_SUBMIT,
            data,
            user=opened_by.user,
            channel=opened_by.channel,
            locale=opened_by.locale,
            message=opened_by.message,
        )

    async def send_message(
        self,
        channel_id: int,
        content: str,
        *,
        author: FakeUser | None = None,
        mentions: Sequence[FakeUser] = (),
        attachments: Sequence[Upload] = (),
        reply_to: StoredMessage | None = None,
    ) -> StoredMessage:
        """A user posts a message (MESSAGE_CREATE under Discord's intent rules); ``reply_to``
        makes it a reply to that message.

        Mention the bot with ``mentions=[fake.bot_user]`` and ``fake.bot_user.mention``
        in the content.
        """
        channel = self.state.channel(channel_id)
        files = [UploadedFile(i, *upload) for i, upload in enumerate(attachments)]
        body: JSON = {"content": content}
        if reply_to is not None:
            body["message_reference"] = {
                "message_id": str(reply_to.id),
                "channel_id": str(reply_to.channel_id),
                **({"guild_id": str(reply_to.guild_id)} if reply_to.guild_id else {}),
            }
        message = self.state.create_message(
            channel,
            author or self.default_user,
            MessageBody(body, files),
            mentions=list(mentions),
            message_type=19 if reply_to is not None else 0,
        )
        message.referenced = reply_to
        await self.gateway.publish_message("MESSAGE_CREATE", message)
        return message

    async def request_reconnect(self) -> None:
        """Gateway op 7: connected clients drop the socket and RESUME."""
        await self.gateway.request_reconnect()

    # -- inspection ----------------------------------------------------------------------

    def commands(self, guild_id: int | None = None) -> list[JSON]:
        """Synced commands (global, or of one guild) as Discord stores them."""
        if guild_id is None:
            return list(self.state.global_commands)
        return list(self.state.guild_commands.get(guild_id, []))

    def channel_messages(self, channel_id: int) -> list[StoredMessage]:
        """Messages in a channel, oldest first (ephemeral ones included, deleted ones not)."""
        return self.state.channel_messages(channel_id)

    def dm_messages(self, user: FakeUser) -> list[StoredMessage]:
        return self.state.channel_messages(self.dm_channel(user).id)

    def message(self, message_id: int) -> StoredMessage:
        return self.state.messages[message_id]

    @property
    def interactions(self) -> list[FakeInteraction]:
        return list(self.state.interactions.values())

    @property
    def requests(self) -> list[RequestRecord]:
        """Every REST request so far (``route`` is the template, e.g. ``PATCH /webhooks/...``)."""
        return list(self.state.requests)

    @property
    def sessions(self) -> list[GatewaySession]:
        return list(self.gateway.sessions.values())

    @property
    def identify_count(self) -> int:
        return self.gateway.identify_count

    @property
    def resume_count(self) -> int:
        return self.gateway.resume_count

    async def wait_for(
        self, predicate: Callable[[], T | None], *, timeout: float = 5.0, what: str = "a condition"
    ) -> T:
        """Wait until ``predicate()`` is truthy (re-checked on every change); return it."""
        return await self.state.notifier.wait_for(predicate, timeout, what)

    async def wait_for_message(
        self,
        channel_id: int,
        predicate: Callable[[StoredMessage], bool] | None = None,
        *,
        timeout: float = 5.0,
    ) -> StoredMessage:
        """The first message in the channel that matches ``predicate``."""

        def found() -> StoredMessage | None:
            return next(
                (
                    m
                    for m in self.state.channel_messages(channel_id)
                    if predicate is None or predicate(m)
                ),
                None,
            )

        return await self.wait_for(found, timeout=timeout, what=f"a message in {channel_id}")

    async def wait_for_dm(
        self,
        user: FakeUser,
        predicate: Callable[[StoredMessage], bool] | None = None,
        *,
        timeout: float = 5.0,
    ) -> StoredMessage:
        return await self.wait_for_message(self.dm_channel(user).id, predicate, timeout=timeout)

    async def wait_for_session(self, *, timeout: float = 5.0) -> GatewaySession:
        """An identified gateway session that is connected right now."""

        def connected() -> GatewaySession | None:
            return next((s for s in self.gateway.active_sessions() if s.connected), None)

        return await self.wait_for(connected, timeout=timeout, what="a connected gateway session")
