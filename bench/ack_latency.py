"""Acknowledgement latency: chat events at 200 per second, event → first reply.

    .venv/bin/python -m bench.ack_latency [--rate 200] [--seconds 10] [--platform discord]

Discord: slash commands dispatched by the local fake Discord over the gateway to the real
discord.py client; measured from dispatch to the fake receiving the deferral. Feishu: signed,
encrypted webhook deliveries POSTed to the bot's route; measured to the HTTP 200 ack and to the
first card replied to the message. The IMA simulator runs in a process of its own (it renders
every picture it returns, a few milliseconds of CPU each); the fake platform and the bot share
one process and one event loop, so the numbers include the fake's work too.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, cast

from discord.gateway import DiscordWebSocket
from discord.http import Route

from bench.inflight import simulator_process
from sim.app import RunningSimulator
from tests.bot.discord.world import start_bot
from tests.bot.feishu.conftest import Bot
from tests.fakes.discord import FakeDiscord, FakeInteraction
from tests.fakes.feishu import FakeFeishu, SentMessage

#: Generations at a hundredth of their time, so each event's job ends within the run.
SIM_SPEED = 0.01


def percentiles(values: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(values, n=100)
    return statistics.median(values), cuts[98], max(values)


async def discord_run(rate: int, seconds: float) -> str:
    base, gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    async with FakeDiscord() as fake:
        with tempfile.TemporaryDirectory() as tmp, simulator_process(SIM_SPEED) as sim:
            bot, adapter, closing = await start_bot(fake, sim, Path(tmp) / "bench.db", SIM_SPEED)
            count = int(rate * seconds)
            users = [fake.add_user(f"user{i}") for i in range(count)]  # one request each
            sent: list[asyncio.Task[FakeInteraction]] = []
            started = time.monotonic()
            for i in range(count):
                due = started + i / rate
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                sent.append(
                    asyncio.create_task(
                        fake.send_slash_command(
                            "image", {"prompt": f"lighthouse {i}"}, user=users[i]
                        )
                    )
                )
            interactions = await asyncio.gather(*sent)
            # One the bot answered too late (Discord refused it) has no response: it is counted.
            await asyncio.gather(
                *(it.wait_for_response(timeout=30) for it in interactions), return_exceptions=True
            )
            latencies = [
                (it.responded_at - it.dispatched_at) * 1000
                for it in interactions
                if it.responded_at is not None
            ]
            late = sum(1 for it in interactions if it.errors or it.responded_at is None)
            await adapter.drain()
            await bot.engine.drain()
            await adapter.pause()
            await bot.engine.shutdown()
            await adapter.close()
            await closing.aclose()
    Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = base, gateway
    events = f"{len(interactions):,} at {rate}/s"
    return row("Discord slash command → deferral", events, latencies, late)


async def feishu_run(rate: int, seconds: float) -> None:
    """Prints the HTTP 200 row as soon as every delivery is acked (the cards can take minutes
    when the bot answers fewer than ``rate`` a second), then the first-card row."""
    async with FakeFeishu() as fake:
        with tempfile.TemporaryDirectory() as tmp, simulator_process(SIM_SPEED) as sim:
            # Bot hands ``sim`` to bot_on, which takes a simulator's URL as well.
            bot = Bot(
                fake, cast("RunningSimulator", sim), "webhook", Path(tmp) / "bench.db", SIM_SPEED
            )
            await bot.start()  # reads the catalogs first, as `ima-bot run` does
            count = int(rate * seconds)
            events = [
                fake.events.group_text_mentioning_bot(f"画一座灯塔 {i}", chat_id=f"oc_bench_{i}")
                for i in range(count)
            ]
            posted: dict[str, float] = {}

            async def deliver(event: dict[str, Any]) -> float:
                posted[event["event"]["message"]["message_id"]] = time.time()
                started = time.monotonic()
                result = await fake.post_event(bot.url, event)
                assert result.status == 200, result.status
                return (time.monotonic() - started) * 1000

            sent: list[asyncio.Task[float]] = []
            started = time.monotonic()
            for i, event in enumerate(events):
                await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
                sent.append(asyncio.create_task(deliver(event)))
            acks = await asyncio.gather(*sent)
            print(row("Feishu webhook → HTTP 200", f"{count:,} at {rate}/s", acks), flush=True)
            cards: dict[str, SentMessage] = {}  # the card answering each message
            for _ in range(120):  # look twice a second: watching every change would load the loop
                await asyncio.sleep(0.5)
                cards = {
                    m.reply_to: m
                    for m in fake.messages
                    if m.msg_type == "interactive" and m.reply_to is not None
                }
                if len(cards) == count:
                    break
            first_card = [c.create_time_ms - posted[key] * 1000 for key, c in cards.items()]
            answered = f"{len(cards):,} of {count:,} at {rate}/s (answered within 60 s)"
            print(row("Feishu webhook → first card", answered, first_card), flush=True)
            await bot.engine.drain()
            await bot.stop()


def row(name: str, events: str, values: list[float], late: int = 0) -> str:
    p50, p99, worst = percentiles(values)
    return f"| {name} | {events} | {p50:.1f} ms | {p99:.1f} ms | {worst:.1f} ms | {late} |"


async def main(rate: int, seconds: float, platforms: list[str]) -> None:
    print("| event → first reply | events | p50 | p99 | max | refused as late |")
    print("|---|---:|---:|---:|---:|---:|")
    if "discord" in platforms:
        print(await discord_run(rate, seconds), flush=True)
    if "feishu" in platforms:
        await feishu_run(rate, seconds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument(
        "--platform", action="append", choices=["discord", "feishu"], help="default: both"
    )
    args = parser.parse_args()
    asyncio.run(main(args.rate, args.seconds, args.platform or ["discord", "feishu"]))
