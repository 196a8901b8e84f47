"""One person's messages are answered in the order they arrived, skipping turns given up."""

from __future__ import annotations

import asyncio

from core.turns import Turns


async def test_a_turn_given_up_passes_on_after_the_one_before() -> None:
    turns = Turns()
    done: list[str] = []
    first, skipped, third = (turns.take("line") for _ in range(3))
    skipped.leave()  # never entered (a redelivery): the third still waits for the first

    async def take(name: str, turn: object) -> None:
        async with turn:  # type: ignore[attr-defined]
            await asyncio.sleep(0)
            done.append(name)

    third_done = asyncio.create_task(take("third", third))
    await asyncio.sleep(0.01)
    assert done == []
    await take("first", first)
    await third_done
    assert done == ["first", "third"]


async def test_a_line_is_forgotten_once_its_last_turn_ends() -> None:
    turns = Turns()
    async with turns.take("line"):
        pass
    turns.take("other").leave()
    await asyncio.sleep(0)  # the ends are noted by callbacks
    assert turns._last == {}


async def test_a_turn_cancelled_while_waiting_does_not_hold_the_next() -> None:
    turns = Turns()
    first, second, third = (turns.take("line") for _ in range(3))
    async with first:
        waiting = asyncio.create_task(second.__aenter__())
        await asyncio.sleep(0)
        waiting.cancel()
    async with asyncio.timeout(1):
        async with third:
            pass
