"""The lean API transport against a real aiohttp.web server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from core.ima import errors
from core.ima.session import IMASession
from core.ima.transport import Transport

KEY = "ima_transport_test_key_0123456789"
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HEAD = b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"


@dataclass
class Server:
    url: str
    #: The client port of every request, in order: which connection carried it.
    peers: list[int] = field(default_factory=list)
    #: Request bodies the server read.
    bodies: list[bytes] = field(default_factory=list)


async def _echo(request: web.Request) -> web.Response:
    return web.json_response({"code": 0, "data": {"got": (await request.read()).decode()}})


def _peer(request: web.Request) -> int:
    assert request.transport is not None
    return int(request.transport.get_extra_info("peername")[1])


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server("")

    @web.middleware
    async def record(request: web.Request, handler: _Handler) -> web.StreamResponse:
        state.peers.append(_peer(request))
        state.bodies.append(await request.read())
        return await handler(request)

    async def close(request: web.Request) -> web.Response:
        response = web.json_response({"code": 0, "data": "bye"})
        response.force_close()
        return response

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for part in (b'{"code": 0, ', b'"data": ', b'"in pieces"}'):
            await response.write(part)
        await response.write_eof()
        return response

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({"code": 0})

    async def half(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "100"})
        await response.prepare(request)
        await response.write(b'{"code": 0, "da')
        await asyncio.sleep(0.05)
        assert request.transport is not None
        request.transport.abort()
        return response

    async def drop(request: web.Request) -> web.Response:
        assert request.transport is not None
        request.transport.abort()  # the request was read: only its answer is lost
        return web.Response()

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 5000)

    async def big_chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(10):
            await response.write(b"x" * 1000)
        await response.write_eof()
        return response

    async def limited(request: web.Request) -> web.Response:
        return web.json_response(
            {"code": 429, "message": "slow down"}, status=429, headers={"Retry-After": "7"}
        )

    app = web.Application(middlewares=[record])
    for path, handler in {
        "/echo": _echo,
        "/close": close,
        "/chunked": chunked,
        "/slow": slow,
        "/half": half,
        "/drop": drop,
        "/big": big,
        "/big-chunked": big_chunked,
        "/open/v1/tasks/detail": _echo,
        "/behind-a-proxy/open/v1/tasks/detail": _echo,
        "/open/v1/tasks/create": drop,
        "/open/v1/limited/call": limited,
    }.items():
        app.router.add_route("*", path, handler)
    runner = web.AppRunner(app, keepalive_timeout=0.3)  # closes idle connections quickly
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    state.url = f"http://127.0.0.1:{port}"
    yield state
    await runner.cleanup()


def head(path: str) -> bytes:
    return HEAD.replace(b"/echo", path.encode())


async def test_connections_are_kept_alive_and_reused(server: Server) -> None:
    transport = Transport(server.url, timeout=5)
    try:
        for i in range(5):
            answer = await transport.request(HEAD, f'"{i}"'.encode())
            assert answer.status == 200
            assert json.loads(answer.body)["data"]["got"] == f'"{i}"'
        assert len(set(server.peers)) == 1
        answers = await asyncio.gather(*(transport.request(HEAD, b"x") for _ in range(20)))
        assert all(a.status == 200 for a in answers)
    finally:
        await transport.close()


async def test_requests_beyond_the_limit_wait_and_get_their_own_answers(server: Server) -> None:
    transport = Transport(server.url, timeout=5, limit=2)
    try:
        bodies = [str(i).encode() for i in range(10)]
        answers = await asyncio.gather(*(transport.request(HEAD, b) for b in bodies))
        assert [json.loads(a.body)["data"]["got"] for a in answers] == [b.decode() for b in bodies]
        assert len(set(server.peers)) <= 2
    finally:
        await transport.close()


async def test_a_connection_the_server_closed_while_idle_is_not_reused(server: Server) -> None:
    transport = Transport(server.url, timeout=5)
    try:
        await transport.request(HEAD, b"1")
        await asyncio.sleep(0.6)  # the server's keep-alive timeout is 0.3 s
        answer = await transport.request(HEAD, b"2")
        assert answer.status == 200
        assert len(set(server.peers)) == 2
    finally:
        await transport.close()


async def test_connections_idle_too_long_are_closed_by_us(server: Server) -> None:
    transport = Transport(server.url, timeout=5, idle_seconds=0.0)
    try:
        await transport.request(HEAD, b"1")
        await transport.request(HEAD, b"2")
        assert len(set(server.peers)) == 2
    finally:
        await transport.close()


async def test_connection_close_is_honoured(server: Server) -> None:
    transport = Transport(server.url, timeout=5)
    try:
        answer = await transport.request(head("/close"), b"")
        assert json.loads(answer.body)["data"] == "bye"
        await transport.request(HEAD, b"after")
        assert len(set(server.peers)) == 2
    finally:
        await transport.close()


async def test_chunked_answers_are_read_whole(server: Server) -> None:
    transport = Transport(server.url, timeout=5)
    try:
        answer = await transport.request(head("/chunked"), b"")
        assert json.loads(answer.body) == {"code": 0, "data": "in pieces"}
        await transport.request(HEAD, b"again")  # the connection stays usable
        assert len(set(server.peers)) == 1
    finally:
        await transport.close()


async def test_timeout_is_sent_and_closes_the_connection(server: Server) -> None:
    transport = Transport(server.url, timeout=0.3)
    try:
        with pytest.raises(errors.NetworkError, match="no answer") as caught:
            await transport.request(head("/slow"), b"")
        assert caught.value.sent is True
        assert (await transport.request(HEAD, b"next")).status == 200
        assert len(set(server.peers)) == 2
    finally:
        await transport.close()


async def test_reset_mid_answer_is_sent(server: Server) -> None:
    transport = Transport(server.url, timeout=5)
    try:
        with pytest.raises(errors.NetworkError) as caught:
            await transport.request(head("/half"), b"")
        assert caught.value.sent is True
        assert (await transport.request(HEAD, b"next")).status == 200
    finally:
        await transport.close()


async def test_reset_after_the_request_was_written_is_sent(server: Server) -> None:
    transport = Transport(server.url, timeout=5)
    try:
        with pytest.raises(errors.NetworkError) as caught:
            await transport.request(head("/drop"), b'{"create": 1}')
        assert caught.value.sent is True
        assert server.bodies == [b'{"create": 1}']  # it did reach the server
    finally:
        await transport.close()


async def test_refused_connection_is_not_sent() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connections are refused
        transport = Transport(f"http://127.0.0.1:{port}", timeout=5)
        try:
            with pytest.raises(errors.NetworkError, match="cannot connect") as caught:
                await transport.request(HEAD, b"x")
            assert caught.value.sent is False
        finally:
            await transport.close()


@pytest.mark.parametrize("path", ["/big", "/big-chunked"])
async def test_oversized_answers_are_refused(server: Server, path: str) -> None:
    transport = Transport(server.url, timeout=5, max_body=4096)
    try:
        with pytest.raises(errors.NetworkError, match="too large"):
            await transport.request(head(path), b"")
        assert (await transport.request(HEAD, b"ok")).status == 200
    finally:
        await transport.close()


async def test_a_cancelled_request_leaves_the_pool_usable(server: Server) -> None:
    transport = Transport(server.url, timeout=5, limit=1)
    try:
        slow = asyncio.create_task(transport.request(head("/slow"), b""))
        queued = asyncio.create_task(transport.request(HEAD, b"queued"))
        await asyncio.sleep(0.1)
        queued.cancel()
        slow.cancel()
        assert (await transport.request(HEAD, b"after")).status == 200
    finally:
        await transport.close()


async def test_session_classifies_and_never_shows_the_key(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    session = IMASession(KEY, base_url=server.url, timeout=5)
    try:
        data = await session.request("POST", "/open/v1/tasks/detail", json_body={"task_id": "t"})
        assert data == {"got": '{"task_id": "t"}'}
        with pytest.raises(errors.NetworkError) as sent:
            await session.request("POST", "/open/v1/tasks/create", json_body={"x": 1})
        assert sent.value.sent is True
        with pytest.raises(errors.RateLimitedError) as limited:
            await session.request("GET", "/open/v1/limited/call", params={"a": "b"})
        assert limited.value.retry_after == 7.0
        for error in (sent.value, limited.value):
            assert KEY not in str(error)
            assert KEY not in repr(error.log_fields())
        assert KEY not in caplog.text
    finally:
        await session.close()


async def test_a_base_url_with_a_path_prefix_leads_every_call(server: Server) -> None:
    session = IMASession(KEY, base_url=f"{server.url}/behind-a-proxy/", timeout=5)
    try:
        data = await session.request("POST", "/open/v1/tasks/detail", json_body={"task_id": "p"})
        assert data == {"got": '{"task_id": "p"}'}
    finally:
        await session.close()


def test_control_characters_in_headers_are_refused() -> None:
    with pytest.raises(ValueError, match="control character") as caught:
        IMASession("ima_key\r\nX-Evil: 1", base_url="http://127.0.0.1:9")
    assert "ima_key" not in str(caught.value)
