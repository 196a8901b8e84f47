"""The long connection: the endpoint the SDK asks for a URL, and the protobuf websocket.

``POST /callback/ws/endpoint`` checks the app's credentials and hands out a one-time URL;
the websocket then carries pings (answered with pongs carrying the client config) and data
frames: events and callbacks pushed by the fake, each acked by the client with its answer.

As on Feishu, an app may hold up to 50 connections at once and each event goes to one of them
chosen at random (seedable, so a test can replay the same choices); one more connection is
refused at the handshake with ``514`` / ``1000040350``, which the SDK raises as a
``ClientException``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.feishu import frames
from tests.fakes.feishu.events import EventFactory, new_id
from tests.fakes.feishu.records import WsAck, WsConnection
from tests.fakes.feishu.rest import json_body
from tests.fakes.feishu.state import FeishuState

MAX_CONNECTIONS = 50
EXCEED_CONN_LIMIT = 1000040350


@dataclass(frozen=True)
class WsClientConfig:
    """The ``ClientConfig`` the endpoint (and every pong) hands the SDK; intervals in seconds.

    Defaults suit tests: no random reconnect delay (``reconnect_nonce=0``) and a 1 s retry
    interval, where Feishu uses 30 s and 120 s.
    """

    reconnect_count: int = -1
    reconnect_interval: int = 1
    reconnect_nonce: int = 0
    ping_interval: int = 120

    def to_json(self) -> dict[str, int]:
        return {
            "ReconnectCount": self.reconnect_count,
            "ReconnectInterval": self.reconnect_interval,
            "ReconnectNonce": self.reconnect_nonce,
            "PingInterval": self.ping_interval,
        }


@dataclass
class _PendingPush:
    event: dict[str, Any]
    trace_id: str
    connection: int
    #: The ack's code, once it comes.
    answer: asyncio.Future[int] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    sent_at: float = field(default_factory=time.monotonic)


class LongConnections:
    def __init__(
        self,
        state: FeishuState,
        *,
        app_secret: str,
        client_config: WsClientConfig,
        seed: int | None,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.state = state
        self.app_secret = app_secret
        self.client_config = client_config
        self.max_connections = max_connections
        self.connections: list[WsConnection] = []
        """Every connection ever made, oldest first."""
        self.acks: list[WsAck] = []
        self.pings = 0
        self.routes = [
            web.post("/callback/ws/endpoint", self.endpoint, name="ws_endpoint"),
            web.get("/ws/v2", self.handle, name="ws"),
        ]
        self._open: dict[int, web.WebSocketResponse] = {}
        self._tickets: set[str] = set()
        self._pending: dict[str, _PendingPush] = {}
        self._random = random.Random(seed)
        self._service_id = secrets.randbelow(90_000_000) + 10_000_000
        self._push_seq = itertools.count(1)

    def open_numbers(self) -> list[int]:
        """Numbers of the connections open right now, oldest first."""
        return [number for number, ws in self._open.items() if not ws.closed]

    @property
    def unacked(self) -> list[str]:
        return list(self._pending)

    # --- connecting -----------------------------------------------------------------------

    async def endpoint(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        if body.get("AppID") != self.state.events.app_id or body.get("AppSecret") != (
            self.app_secret
        ):
            # A ClientException for the SDK: start() raises instead of retrying forever.
            return web.json_response({"code": 10014, "msg": "app id or secret invalid"})
        ticket = secrets.token_urlsafe(16)
        self._tickets.add(ticket)
        url = (
            f"ws://{request.host}/ws/v2?fpid=493&aid=552564"
            f"&device_id={new_id('', 16)}&access_key={new_id('', 32)}"
            f"&service_id={self._service_id}&ticket={ticket}"
        )
        return web.json_response(
            {
                "code": 0,
                "msg": "ok",
                "data": {"URL": url, "ClientConfig": self.client_config.to_json()},
            }
        )

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return _refuse(403, "invalid ticket")
        self._tickets.discard(ticket)
        if len(self.open_numbers()) >= self.max_connections:
            return _refuse(514, "exceeded connection limit", auth_code=EXCEED_CONN_LIMIT)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        record = WsConnection(number=len(self.connections) + 1, url=str(request.url))
        self.connections.append(record)
        self._open[record.number] = ws
        self.state.changed()
        try:
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.BINARY:
                    await self._on_client_frame(ws, msg.data)
        finally:
            del self._open[record.number]
            record.open = False
            self.state.changed()
        return ws

    async def drop(self) -> None:
        """Close every connection from the server side (the SDK then reconnects)."""
        for ws in list(self._open.values()):
            await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY, message=b"server restart")

    # --- pushing events -------------------------------------------------------------------

    async def send(
        self, event: dict[str, Any], connection: int | None = None
    ) -> tuple[str, asyncio.Future[int]]:
        """Push ``event`` as a data frame to ``connection`` (a :attr:`WsConnection.number`) or
        to one open connection picked at random; returns the frame's message_id and the
        future of its ack's code. ``RuntimeError`` when no such connection is open."""
        open_numbers = self.open_numbers()
        if not open_numbers:
            raise RuntimeError("no long-connection client is connected")
        if connection is None:
            connection = self._random.choice(open_numbers)
        elif connection not in open_numbers:
            raise RuntimeError(f"long connection #{connection} is not open")
        message_id = new_id("")
        trace_id = new_id("")
        headers = {
            "type": "event",
            "message_id": message_id,
            "trace_id": trace_id,
            "sum": "1",
            "seq": "0",
        }
        data = frames.build(
            method=frames.METHOD_DATA,
            service=self._service_id,
            headers=headers,
            payload=json.dumps(event, ensure_ascii=False).encode(),
            seq_id=next(self._push_seq),
        )
        pending = _PendingPush(event, trace_id, connection)
        self._pending[message_id] = pending
        self.connections[connection - 1].events += 1
        try:
            await self._open[connection].send_bytes(data)
        except ConnectionError:  # closed meanwhile: the frame never left, its ack never comes
            pending.answer.set_exception(RuntimeError(f"long connection #{connection} closed"))
        return message_id, pending.answer

    async def _on_client_frame(self, ws: web.WebSocketResponse, raw: bytes) -> None:
        frame = frames.parse(raw)
        if frame.method == frames.METHOD_CONTROL and frame.headers.get("type") == "ping":
            self.pings += 1
            pong = frames.build(
                method=frames.METHOD_CONTROL,
                service=frame.service,
                headers={"type": "pong"},
                payload=json.dumps(self.client_config.to_json()).encode(),
            )
            await ws.send_bytes(pong)
            self.state.changed()
        elif frame.method == frames.METHOD_DATA:
            self._record_ack(frame)

    def _record_ack(self, frame: frames.ParsedFrame) -> None:
        message_id = frame.headers.get("message_id", "")
        pending = self._pending.pop(message_id, None)
        if pending is None:
            return
        code, data = frames.decode_ack(frame.payload)
        biz_rt = frame.headers.get("biz_rt")
        latency = time.monotonic() - pending.sent_at
        self.acks.append(
            WsAck(
                message_id=message_id,
                trace_id=pending.trace_id,
                event_type=EventFactory.event_type(pending.event),
                code=code,
                data=data,
                biz_rt_ms=int(biz_rt) if biz_rt else None,
                latency=latency,
                connection=pending.connection,
            )
        )
        self.state.record_delivery(
            "ws", pending.event, code, latency, data, connection=pending.connection
        )
        pending.answer.set_result(code)


def _refuse(status: int, msg: str, *, auth_code: int | None = None) -> web.Response:
    """A failed handshake as the SDK reads it: status and message in ``handshake-*`` headers."""
    headers = {"handshake-status": str(status), "handshake-msg": msg}
    if auth_code is not None:
        headers["handshake-autherrcode"] = str(auth_code)
    return web.Response(status=status, headers=headers)
