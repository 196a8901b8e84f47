"""One deployment for the process drills: the fake Discord and Feishu, the IMA simulator, and
``ima-bot run`` on them as a real process; with what the drills ask of them."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.app import RunningSimulator, start_simulator
from tests.bot.discord.world import finished
from tests.bot.feishu.conftest import card_text, header
from tests.drills.process import BotProcess, bot_environment
from tests.fakes.discord import FakeDiscord, FakeInteraction, StoredMessage
from tests.fakes.feishu import FakeFeishu, SentMessage

#: The simulator runs this much faster than real generations, and the bot is told so.
SCALE = 0.01


@dataclass
class Deployment:
    discord: FakeDiscord
    feishu: FakeFeishu
    sim: RunningSimulator
    bot: BotProcess
    with_feishu: bool
    feishu_mode: str

    async def start(self) -> None:
        """Start the bot (again), until it is healthy and, on a long connection, connected as
        the fake sees it too."""
        connections = self.feishu.ws_connections_total
        await self.bot.start()
        if self.with_feishu and self.feishu_mode == "ws":
            await self.feishu.wait_for_ws_connection(connections + 1)

    async def deliver(self, event: dict[str, Any]) -> int:
        """A Feishu event the way the mode delivers it; returns the bot's answer (200: taken)."""
        if self.feishu_mode == "webhook":
            return (await self.feishu.post_event(self.bot.webhook_url, event)).status
        return (await self.feishu.push_event(event)).code

    @property
    def creates(self) -> list[str]:
        """The prompt of every create IMA received."""
        return [
            c.body["parameters"][0]["parameters"]["prompt"] for c in self.sim.state.calls("create")
        ]

    def charged(self) -> int:
        """Credits IMA took."""
        return sum(entry.points for entry in self.sim.state.ledger)

    def charged_by_person(self) -> Counter[str]:
        """Credits IMA took per person, whose name ends each drill's prompts."""
        person = {task.id: task.prompt.split()[-1] for task in self.sim.state.tasks.values()}
        totals: Counter[str] = Counter()
        for entry in self.sim.state.ledger:
            totals[person[entry.task_id]] += entry.points
        return totals

    def cards_for(self, event: dict[str, Any]) -> list[SentMessage]:
        message_id = event["event"]["message"]["message_id"]
        return [
            m
            for m in self.feishu.messages
            if m.reply_to == message_id and m.msg_type == "interactive"
        ]

    async def settled(self) -> None:
        """Until the bot has nothing left to do: no active job, no unanswered request."""
        for _ in range(600):
            active = self.bot.query(
                "SELECT COUNT(*) FROM jobs WHERE state IN "
                "('queued', 'accepted', 'creating', 'running', 'delivering')"
            )[0][0]
            waiting = self.bot.query("SELECT COUNT(*) FROM requests WHERE finished_at IS NULL")[0][
                0
            ]
            if not active and not waiting:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"still busy: {self.bot.states()}")


@asynccontextmanager
async def deployment(
    tmp_path: Path,
    *,
    with_feishu: bool = True,
    feishu_mode: str = "webhook",
    sim_options: dict[str, Any] | None = None,
    **env: str,
) -> AsyncIterator[Deployment]:
    """The fakes, the simulator and a running bot on them (Discord, and Feishu unless not
    ``with_feishu``: its SDK takes seconds to import); the bot's log is printed on failure."""
    async with (
        FakeDiscord() as discord,
        FakeFeishu(wait_timeout=30) as feishu,
        await start_simulator(speed=SCALE, seed=13, **(sim_options or {})) as sim,
    ):
        environment = bot_environment(
            tmp_path, sim, SCALE, discord=discord, feishu=feishu if with_feishu else None,
            feishu_mode=feishu_mode, **env,
        )  # fmt: skip
        bot = BotProcess(tmp_path, environment)
        d = Deployment(discord, feishu, sim, bot, with_feishu, feishu_mode)
        try:
            await d.start()
            yield d
        except BaseException:
            print(bot.log())  # shown with the failure
            raise
        finally:
            await bot.close()


def is_final(card: SentMessage) -> bool:
    return header(card.json())["template"] in ("green", "red")


async def final_card(d: Deployment, event: dict[str, Any]) -> SentMessage:
    """The one card answering ``event`` that shows its last step (a result or a failure)."""
    await d.feishu.wait_until(lambda: any(map(is_final, d.cards_for(event))), "a final card")
    finals = [c for c in d.cards_for(event) if is_final(c)]
    assert len(finals) == 1, [card_text(c.json()) for c in finals]  # never a second one
    return finals[0]


def discord_messages(interaction: FakeInteraction) -> list[StoredMessage]:
    """The messages answering one interaction: its original response and any followups."""
    assert interaction.original is not None
    return list({m.id: m for m in (interaction.original, *interaction.followups)}.values())


async def discord_answer(d: Deployment, interaction: FakeInteraction) -> StoredMessage:
    """The one message answering ``interaction`` that shows its last step."""

    def found() -> list[StoredMessage] | None:
        if interaction.original is None:
            return None
        return [m for m in discord_messages(interaction) if finished(m)] or None

    [message] = await d.discord.wait_for(found, timeout=30, what="a final message")
    return message


def finished_in(d: Deployment) -> list[StoredMessage]:
    return [m for m in d.discord.channel_messages(d.discord.default_channel.id) if finished(m)]
