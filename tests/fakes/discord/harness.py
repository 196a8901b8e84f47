"""Run a real ``discord.Client`` against a :class:`FakeDiscord`."""

# The waiting helpers take a timeout on purpose: a test double must never hang a test,
# and its own timeout error names what was awaited.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Iterator
from typing import TypeVar

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from .server import FakeDiscord

ClientT = TypeVar("ClientT", bound=discord.Client)
_markers = itertools.count(1)


@contextlib.contextmanager
def pointed_at(fake: FakeDiscord) -> Iterator[None]:
    """Point discord.py's REST base and default gateway at ``fake``; restore them on exit.

    Both are class attributes read when a request or connection is made, so they must stay
    set for as long as a client runs. ``discord.http._set_api_version`` would reset the base.
    """
    saved_base, saved_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = fake.api_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved_base, saved_gateway


def client_shards(client: discord.Client) -> set[tuple[int, int]] | None:
    """The ``(shard_id, shard_count)`` pairs ``client`` runs, ``None`` when it does not shard."""
    if isinstance(client, discord.AutoShardedClient):
        count = client.shard_count  # known once the client has launched its shards
        return {(shard_id, count) for shard_id in client.shard_ids or range(count)}
    if client.shard_id is not None and client.shard_count is not None:
        return {(client.shard_id, client.shard_count)}
    return None


async def sync_client(fake: FakeDiscord, client: discord.Client, *, timeout: float = 5.0) -> None:
    """Return once ``client`` has processed every gateway event the fake sent so far.

    Each connected session of ``client`` (one per shard) gets its own marker event; the client
    handles a shard's events in order and reports each through ``on_socket_event_type``, so
    seeing the marker means everything before it is done (e.g. the GUILD_CREATEs that may land
    after ``on_ready`` with ``guild_ready_timeout=0``). Sessions are told apart by their shards:
    clients running at once must run different shards, or only one of them may be unsharded.
    """
    shards = client_shards(client)
    sessions = [
        s
        for s in fake.sessions
        if s.connected and (s.shard is None if shards is None else s.shard in shards)
    ]
    markers = [f"FAKE_DISCORD_SYNC_{next(_markers)}" for _ in sessions]
    # Client.wait_for registers its listener when called, before the marker can arrive.
    seen = [
        client.wait_for("socket_event_type", check=marker.__eq__, timeout=timeout)
        for marker in markers
    ]
    for session, marker in zip(sessions, markers, strict=True):
        await session.dispatch(marker, {})
    await asyncio.gather(*seen)


@contextlib.asynccontextmanager
async def running_client(
    fake: FakeDiscord, client: ClientT, *, timeout: float = 5.0
) -> AsyncIterator[ClientT]:
    """Log ``client`` in, connect it, wait until READY and guilds are cached; close on exit.

    Build the client with ``guild_ready_timeout=0`` or READY waits 2 s for guild streaming.
    """
    with pointed_at(fake):
        connection: asyncio.Task[None] | None = None
        try:
            await client.login(fake.token)
            connection = asyncio.create_task(client.connect(), name="fake-discord-client")
            await _wait_until_ready(client, connection, timeout)
            await sync_client(fake, client, timeout=timeout)
            yield client
        finally:
            await client.close()  # also closes the HTTP session of a failed login
            if connection is not None:
                await _finish(connection, timeout)


async def _finish(connection: asyncio.Task[None], timeout: float) -> None:
    done, _ = await asyncio.wait({connection}, timeout=timeout)
    if connection in done:
        # A failure already surfaced from _wait_until_ready; just retrieve it here.
        connection.exception()
    else:
        connection.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await connection


async def _wait_until_ready(
    client: discord.Client, connection: asyncio.Task[None], timeout: float
) -> None:
    ready = asyncio.create_task(client.wait_until_ready())
    done, _ = await asyncio.wait(
        {ready, connection}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
    )
    if ready in done:
        return
    ready.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await ready
    if connection in done:
        connection.result()
        raise RuntimeError("the client stopped before READY")
    raise TimeoutError(f"the client was not READY within {timeout}s")
