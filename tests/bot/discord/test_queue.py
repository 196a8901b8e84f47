"""The queue through the real Discord adapter: a waiting /image shows its place and a Cancel
button, /usage says what runs and what waits, and cancelling gives the credits back."""

from __future__ import annotations

from pathlib import Path

from sim.app import start_simulator
from tests.bot.discord.test_buttons import button
from tests.bot.discord.world import finished, world_at
from tests.core.test_queue import SCALE, Clock
from tests.fakes.discord import FakeDiscord


async def test_a_waiting_image_shows_its_place_and_can_be_cancelled(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    clock = Clock()
    async with (
        await start_simulator(speed=SCALE, seed=7, clock=clock) as sim,
        world_at(fake, sim, tmp_path / "bot.db", scale=SCALE, max_jobs_per_user=1) as world,
    ):
        asked = [
            await fake.send_slash_command("image", {"prompt": f"a lighthouse number {i}"})
            for i in range(3)
        ]
        waiting = [
            await a.wait_for_original(lambda m: "Place in the queue" in m.content)
            for a in asked[1:]
        ]
        assert "Place in the queue: 1" in waiting[0].content
        assert "Place in the queue: 2" in waiting[1].content

        usage = await fake.send_slash_command("usage", {})
        answer = await usage.wait_for_original(lambda m: "Waiting" in m.content)
        assert answer.ephemeral
        assert "Being made now: 1. Waiting in the queue: 2." in answer.content
        assert "15 pts today" in answer.content  # all three reserved

        stranger = fake.add_user("stranger")
        cancel = button(waiting[1], "Cancel")
        refused = await fake.press_button(waiting[1], cancel, user=stranger)
        await refused.wait_for_response()
        press = await fake.press_button(waiting[1], cancel)
        await press.wait_for_response()
        gone = await fake.wait_for_message(
            waiting[1].channel_id, lambda m: m.id == waiting[1].id and "Cancelled" in m.content
        )
        assert "given back" in gone.content

        clock.resume()
        first = await asked[0].wait_for_original(finished)
        second = await asked[1].wait_for_original(finished)
        assert first.content.startswith("✅")
        assert second.content.startswith("✅")
        await world.settle()
        assert len(sim.state.calls("create")) == 2
        assert sim.state.peak_open == 1
