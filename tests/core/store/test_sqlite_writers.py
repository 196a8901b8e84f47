"""SQLite's one writer: storing arriving requests goes before the job writes waiting."""

from __future__ import annotations

import asyncio

from core.store.sqlite import _Writers


async def test_urgent_writers_go_before_the_ordinary_ones_waiting() -> None:
    writers = _Writers()
    order: list[str] = []
    release = asyncio.Event()

    async def write(name: str, *, urgent: bool = False) -> None:
        async with writers.turn(urgent=urgent):
            order.append(name)
            await release.wait()

    busy = asyncio.create_task(write("job 1"))
    await asyncio.sleep(0)  # it holds the writer
    waiting = [
        asyncio.create_task(write("job 2")),
        asyncio.create_task(write("request 1", urgent=True)),
        asyncio.create_task(write("job 3")),
        asyncio.create_task(write("request 2", urgent=True)),
    ]
    await asyncio.sleep(0.01)  # all queued behind it
    release.set()
    await asyncio.gather(busy, *waiting)
    assert order == ["job 1", "request 1", "request 2", "job 2", "job 3"]


async def test_a_cancelled_waiter_hands_the_writer_on() -> None:
    writers = _Writers()
    order: list[str] = []
    release = asyncio.Event()

    async def write(name: str) -> None:
        async with writers.turn():
            order.append(name)
            await release.wait()

    busy = asyncio.create_task(write("first"))
    await asyncio.sleep(0)
    gone, after = asyncio.create_task(write("gone")), asyncio.create_task(write("after"))
    await asyncio.sleep(0)
    gone.cancel()
    release.set()
    await asyncio.gather(busy, after)
    assert order == ["first", "after"]
    async with writers.turn():  # free again
        pass
