"""The fake gateway: HELLO, IDENTIFY/READY/GUILD_CREATE, heartbeats, RESUME and dispatches.

Sessions may be sharded (IDENTIFY with ``shard: [id, count]``), from one process or several:
a guild's events, its interactions included, go to the sessions whose shard is
``(guild_id >> 22) % count``, DMs to shard 0 only, and READY lists only the shard's guilds.
A session identified without ``shard`` is shard 0 of 1 and gets everything.

discord.py 2.7 asks for ``compress=zlib-stream`` (or ``zstd-stream`` when a zstd module is
installed). Text frames bypass its decompressor whatever it asked for, so the fake answers
zlib-stream with real zlib-stream binary frames (one shared compressor per connection, each
message ending in a Z_SYNC_FLUSH) and everything else with plain text frames.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from .models import StoredMessage, shard_of
from .state import FakeState

JSON = dict[str, Any]

# Opcodes
DISPATCH = 0
HEARTBEAT = 1
IDENTIFY = 2
PRESENCE_UPDATE = 3
VOICE_STATE_UPDATE = 4
RESUME = 6
RECONNECT = 7
REQUEST_GUILD_MEMBERS = 8
INVALID_SESSION = 9
HELLO = 10
HEARTBEAT_ACK = 11

# Intents
GUILD_MEMBERS = 1 << 1
GUILD_PRESENCES = 1 << 8
GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = GUILD_MEMBERS | GUILD_PRESENCES | MESSAGE_CONTENT

# Close codes
UNKNOWN_OPCODE = 4001
DECODE_ERROR = 4002
NOT_AUTHENTICATED = 4003
AUTHENTICATION_FAILED = 4004
ALREADY_AUTHENTICATED = 4005
INVALID_SHARD = 4010
INVALID_INTENTS = 4013
DISALLOWED_INTENTS = 4014

ZLIB_STREAM = "zlib-stream"

#: A client closing with these ends its session; any other close leaves it resumable.
SESSION_ENDING_CLOSE_CODES = (1000, 1001)

#: Either a payload for every session or a function choosing one per session (None skips).
DispatchData = JSON | Callable[["GatewaySession"], JSON | None]


class _Connection:
    """One websocket; serialises writes because zlib-stream shares compressor state."""

    def __init__(self, ws: web.WebSocketResponse, compression: str | None) -> None:
        self.ws = ws
        self.compression = compression
        self._compressor = zlib.compressobj() if compression == ZLIB_STREAM else None
        self._lock = asyncio.Lock()

    async def send(self, raw: str) -> None:
        async with self._lock:
            if self._compressor is None:
                await self.ws.send_str(raw)
                return
            compressor = self._compressor
            data = compressor.compress(raw.encode()) + compressor.flush(zlib.Z_SYNC_FLUSH)
            await self.ws.send_bytes(data)


@dataclass(eq=False)
class GatewaySession:
    """A gateway session; it outlives its connection so that the client can RESUME it."""

    session_id: str
    intents: int
    shard: tuple[int, int] | None
    #: Transport compression in use: "zlib-stream", or None for plain text frames.
    compression: str | None
    sequence: int = 0
    heartbeats: int = 0
    resumes: int = 0
    terminated: bool = False
    #: Every dispatch sent, for replay on RESUME.
    log: list[tuple[int, str]] = field(default_factory=list, repr=False)
    connection: _Connection | None = field(default=None, repr=False)

    @property
    def connected(self) -> bool:
        return self.connection is not None and not self.connection.ws.closed

    def dispatched(self, event: str) -> list[JSON]:
        """The ``d`` of every ``event`` dispatch sent to this session, oldest first."""
        frames = (json.loads(raw) for _, raw in self.log)
        return [frame["d"] for frame in frames if frame["t"] == event]

    def receives(self, guild_id: int | None) -> bool:
        """Whether events of this guild (None: DMs, which go to shard 0) reach this shard."""
        if self.shard is None:
            return True
        shard_id, shard_count = self.shard
        return shard_of(guild_id, shard_count) == shard_id

    async def dispatch(self, event: str, data: JSON) -> None:
        self.sequence += 1
        raw = json.dumps({"op": DISPATCH, "t": event, "s": self.sequence, "d": data})
        self.log.append((self.sequence, raw))
        if self.connection is not None:
            await _send_or_drop(self, self.connection, raw)


async def _send_or_drop(session: GatewaySession, connection: _Connection, raw: str) -> None:
    """Send; a connection that died meanwhile just leaves the event queued for RESUME."""
    try:
        await connection.send(raw)
    except ConnectionError:
        if session.connection is connection:
            session.connection = None


class Gateway:
    def __init__(
        self,
        state: FakeState,
        *,
        heartbeat_interval: float,
        privileged_intents: int,
        recommended_shards: int = 1,
        session_start_limit: int = 1000,
        max_concurrency: int = 1,
    ) -> None:
        self.state = state
        self.heartbeat_interval = heartbeat_interval
        self.privileged_intents = privileged_intents
        #: What ``GET /gateway/bot`` tells a client: shards to run, IDENTIFYs allowed per day
        #: (each one spends one; none left and IDENTIFY is answered op 9) and how many shards
        #: may IDENTIFY in the same 5 s.
        self.recommended_shards = recommended_shards
        self.session_start_limit = session_start_limit
        self.max_concurrency = max_concurrency
        self.url = ""
        self.sessions: dict[str, GatewaySession] = {}
        self.identify_count = 0
        self.resume_count = 0
        self._sockets: set[web.WebSocketResponse] = set()

    @property
    def session_starts_remaining(self) -> int:
        return max(0, self.session_start_limit - self.identify_count)

    def active_sessions(self) -> list[GatewaySession]:
        """Sessions that receive events: connected, or waiting to be resumed."""
        return [s for s in self.sessions.values() if not s.terminated]

    async def dispatch(self, event: str, data: DispatchData) -> int:
        """Send an event to every active session; returns how many sessions got it."""
        sent = 0
        for session in self.active_sessions():
            payload = data(session) if callable(data) else data
            if payload is not None:
                await session.dispatch(event, payload)
                sent += 1
        return sent

    async def dispatch_for(self, guild_id: int | None, event: str, data: JSON) -> int:
        """Send a guild's event (``None``: a DM's) to the sessions of its shard."""
        return await self.dispatch(
            event, lambda session: data if session.receives(guild_id) else None
        )

    async def publish_message(self, event: str, message: StoredMessage) -> None:
        """MESSAGE_CREATE/UPDATE with Discord's intent rules.

        GUILD_MESSAGES / DIRECT_MESSAGES gate delivery; without MESSAGE_CONTENT, content,
        embeds, attachments and components are blanked unless the message is a DM, mentions
        the bot, or is the bot's own. Ephemeral messages are never dispatched.
        """
        if message.ephemeral:
            return
        bot = self.state.bot_user
        in_dm = message.guild_id is None
        exempt = in_dm or message.author is bot or bot in message.mentions

        def for_session(session: GatewaySession) -> JSON | None:
            if not session.intents & (DIRECT_MESSAGES if in_dm else GUILD_MESSAGES):
                return None
            if not session.receives(message.guild_id):
                return None
            payload = message.to_payload()
            if message.guild_id is not None and message.webhook_id is None:
                guild = self.state.guilds[message.guild_id]
                payload["member"] = guild.member_payload(message.author, with_user=False)
            if not exempt and not session.intents & MESSAGE_CONTENT:
                payload |= {"content": "", "embeds": [], "attachments": [], "components": []}
            return payload

        await self.dispatch(event, for_session)

    async def publish_message_delete(self, message: StoredMessage) -> None:
        if message.ephemeral:
            return
        data: JSON = {"id": str(message.id), "channel_id": str(message.channel_id)}
        if message.guild_id is not None:
            data["guild_id"] = str(message.guild_id)
        await self.dispatch_for(message.guild_id, "MESSAGE_DELETE", data)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT to every connected session (the client should RESUME)."""
        for session in self.active_sessions():
            if session.connection is not None:
                await _send_or_drop(
                    session, session.connection, json.dumps({"op": RECONNECT, "d": None})
                )

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY)

    # -- connection handling -------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, timeout=2.0)
        await ws.prepare(request)
        self._sockets.add(ws)
        wants_zlib = request.query.get("compress") == ZLIB_STREAM
        connection = _Connection(ws, ZLIB_STREAM if wants_zlib else None)
        session: GatewaySession | None = None
        try:
            hello = {"op": HELLO, "d": {"heartbeat_interval": int(self.heartbeat_interval * 1000)}}
            await connection.send(json.dumps(hello))
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    await ws.close(code=DECODE_ERROR, message=b"Decode error")
                    break
                try:
                    frame = json.loads(message.data)
                except ValueError:
                    await ws.close(code=DECODE_ERROR, message=b"Decode error")
                    break
                session = await self._on_frame(connection, session, frame)
        finally:
            self._sockets.discard(ws)
            if session is not None and session.connection is connection:
                session.connection = None
                if ws.close_code in SESSION_ENDING_CLOSE_CODES:
                    session.terminated = True
            self.state.changed()
        return ws

    async def _on_frame(
        self, connection: _Connection, session: GatewaySession | None, frame: JSON
    ) -> GatewaySession | None:
        op, data = frame.get("op"), frame.get("d")
        if op == HEARTBEAT:
            if session is not None:
                session.heartbeats += 1
            await connection.send(json.dumps({"op": HEARTBEAT_ACK}))
        elif op == IDENTIFY:
            if session is not None:
                await connection.ws.close(
                    code=ALREADY_AUTHENTICATED, message=b"Already authenticated"
                )
                return session
            return await self._identify(connection, data or {})
        elif op == RESUME:
            return await self._resume(connection, data or {})
        elif session is None:
            await connection.ws.close(code=NOT_AUTHENTICATED, message=b"Not authenticated")
        elif op == REQUEST_GUILD_MEMBERS:
            await self._send_members(session, data or {})
        elif op not in (PRESENCE_UPDATE, VOICE_STATE_UPDATE):
            await connection.ws.close(code=UNKNOWN_OPCODE, message=b"Unknown opcode")
        return session

    async def _identify(self, connection: _Connection, data: JSON) -> GatewaySession | None:
        ws = connection.ws
        intents = data.get("intents")
        shard = data.get("shard")
        if data.get("token") != self.state.token:
            await ws.close(code=AUTHENTICATION_FAILED, message=b"Authentication failed")
            return None
        if not isinstance(intents, int):
            await ws.close(code=INVALID_INTENTS, message=b"Invalid intent(s)")
            return None
        if intents & PRIVILEGED_INTENTS & ~self.privileged_intents:
            await ws.close(code=DISALLOWED_INTENTS, message=b"Disallowed intent(s)")
            return None
        if shard is not None and not (
            isinstance(shard, list)
            and len(shard) == 2
            and all(isinstance(n, int) for n in shard)
            and 0 <= shard[0] < shard[1]
        ):
            await ws.close(code=INVALID_SHARD, message=b"Invalid shard")
            return None
        if not self.session_starts_remaining:
            await connection.send(json.dumps({"op": INVALID_SESSION, "d": False}))
            return None
        session = GatewaySession(
            session_id=secrets.token_hex(16),
            intents=intents,
            shard=tuple(shard) if shard is not None else None,
            compression=connection.compression,
            connection=connection,
        )
        self.sessions[session.session_id] = session
        self.identify_count += 1
        guilds = [g for g in self.state.guilds.values() if session.receives(g.id)]
        ready: JSON = {
            "v": 10,
            "user": self.state.bot_user.to_payload() | {"verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "resume_gateway_url": self.url,
            "application": {"id": str(self.state.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "_trace": ["fake-discord"],
        }
        if session.shard is not None:
            ready["shard"] = list(session.shard)
        await session.dispatch("READY", ready)
        for guild in guilds:
            await session.dispatch("GUILD_CREATE", self.state.guild_payload(guild))
        self.state.changed()
        return session

    async def _resume(self, connection: _Connection, data: JSON) -> GatewaySession | None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or session.terminated or data.get("token") != self.state.token:
            await connection.send(json.dumps({"op": INVALID_SESSION, "d": False}))
            return None
        session.connection = connection
        session.compression = connection.compression
        session.resumes += 1
        self.resume_count += 1
        since = int(data.get("seq") or 0)
        for sequence, raw in list(session.log):
            if sequence > since:
                await _send_or_drop(session, connection, raw)
        await session.dispatch("RESUMED", {"_trace": ["fake-discord"]})
        self.state.changed()
        return session

    async def _send_members(self, session: GatewaySession, data: JSON) -> None:
        guild = self.state.guilds.get(int(data.get("guild_id") or 0))
        members = [guild.member_payload(user) for user in guild.members] if guild else []
        chunk = {
            "guild_id": str(data.get("guild_id")),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        await session.dispatch("GUILD_MEMBERS_CHUNK", chunk)
