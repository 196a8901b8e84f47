"""Drill: twenty /image commands from one person with a limit of three at once, on the real
``ima-bot run`` process and the fake Discord, with a restart in the middle.

Three are made at once and seventeen wait, each message showing its place; the bot is stopped
while some are still waiting and started again; every one is delivered once, in its own
message, nothing is created twice, and IMA never has more than three at once.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from tests.bot.discord.world import finished
from tests.core.test_queue import Clock
from tests.drills.deployment import deployment, discord_answer, discord_messages

REQUESTS, LIMIT = 20, 3
PLACE = re.compile(r"Place in the queue: (\d+)")


def first_place(history: list[str]) -> int | None:
    return next((int(m.group(1)) for text in history if (m := PLACE.search(text))), None)


async def test_twenty_requests_wait_their_turn_across_a_restart(tmp_path: Path) -> None:
    clock = Clock()  # IMA makes nothing until the queue is seen whole
    async with deployment(
        tmp_path,
        with_feishu=False,
        sim_options={"clock": clock},
        MAX_JOBS_PER_USER=str(LIMIT),
    ) as d:
        fake = d.discord
        asked = [
            await fake.send_slash_command("image", {"prompt": f"a lighthouse number {i} for d0"})
            for i in range(REQUESTS)
        ]

        def shown() -> list[int | None] | None:
            if any(a.original is None for a in asked):
                return None
            places = [
                first_place([s.content for s in a.original.history])  # type: ignore[union-attr]
                for a in asked
            ]
            return places if sum(p is not None for p in places) == REQUESTS - LIMIT else None

        places = await fake.wait_for(shown, timeout=30, what="every waiting place")
        assert places == [None] * LIMIT + list(range(1, REQUESTS - LIMIT + 1))
        assert d.bot.states() == {"running": LIMIT, "queued": REQUESTS - LIMIT}

        clock.resume()
        await fake.wait_for(
            lambda: sum(finished(a.original) for a in asked if a.original) >= 2 * LIMIT or None,
            timeout=30,
            what="some delivered",
        )
        assert await d.bot.stop() == 0  # SIGTERM with jobs still waiting
        assert d.bot.states().get("queued", 0) > 0
        await d.start()

        answers = [await discord_answer(d, a) for a in asked]
        await d.settled()
        assert all(m.content.startswith("✅") for m in answers)
        assert all(discord_messages(a) == [a.original] for a in asked)  # one message each
        assert set(Counter(d.creates).values()) == {1}
        assert len(d.creates) == REQUESTS
        assert d.sim.state.peak_open <= LIMIT
        assert d.bot.states() == {"delivered": REQUESTS}
        assert d.charged() == d.bot.counted()


async def test_everyones_limit_holds_on_the_real_process(tmp_path: Path) -> None:
    """Three people, three pictures each, at most two at IMA at once (MAX_RUNNING_JOBS)."""
    async with deployment(tmp_path, with_feishu=False, MAX_RUNNING_JOBS="2") as d:
        fake = d.discord
        people = [fake.add_user(f"p{i}") for i in range(3)]
        asked = [
            await fake.send_slash_command(
                "image", {"prompt": f"a kite number {n} for p{i}"}, user=p
            )
            for i, p in enumerate(people)
            for n in range(3)
        ]
        answers = [await discord_answer(d, a) for a in asked]
        await d.settled()
        assert all(m.content.startswith("✅") for m in answers)
        assert len(d.creates) == len(asked)
        assert d.sim.state.peak_open <= 2
        assert any(first_place([s.content for s in m.history]) for m in answers)  # some waited
