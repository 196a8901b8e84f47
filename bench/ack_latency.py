"""Acknowledgement latency: chat events at a steady rate, event → acknowledgement, → first reply.

    .venv/bin/python -m bench.ack_latency                       # 200 events per second for 10 s
    .venv/bin/python -m bench.ack_latency --rate 1000 --seconds 5 [--platform discord|feishu]
    .venv/bin/python -m bench.ack_latency --rate 1000 --seconds 5 --replicas 3

The bot is a real ``ima-bot run`` process, started as the drills start it
(:mod:`tests.drills.process`: its own settings, an SQLite database, JSON logs); the fake
Discord or Feishu and the load generator run in this process, the IMA simulator in a third, at
a hundredth of real time. Each event is a new picture job from a different person. With
``--replicas N`` there are N such processes on one throwaway PostgreSQL server
(:mod:`tests.postgres`): on Discord each runs one shard of N and the people are spread over N
guilds, one per shard; on Feishu the deliveries go to the replicas' webhooks in turn, as a load
balancer would send them.

Discord: slash commands dispatched by the fake over the gateway to the bot's discord.py
client; measured from the dispatch to the fake receiving the deferral (not acknowledged in
time: an answer after Discord's 3 s, which Discord refuses, or none), and to the first edit of
the deferred message (the first reply). Feishu: signed, encrypted webhook deliveries POSTed to
the bot's route; measured to the HTTP 200 (not acknowledged in time: any other answer, as when
the message was not stored within the bot's budget; Feishu delivers those again, and so does
the fake), and to the first card replied to the message. Replies are counted as they arrive
within ``--reply-wait`` seconds after the last event. Also printed: the CPU the bot processes
and this one used while the events arrived (as a share of one core), and this process's worst
event-loop lag meanwhile, which every figure here includes (the fake's clock is its loop).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.inflight import simulator_process
from bench.replicas import cpu_seconds
from tests.drills.process import BotProcess, bot_environment
from tests.fakes.discord import FakeDiscord, FakeGuild, FakeInteraction
from tests.fakes.feishu import FakeFeishu
from tests.postgres import Server, start_server

#: Generations at a hundredth of their time, so each event's job ends soon after the run.
SIM_SPEED = 0.01
#: How often replies are looked for: watching every change of the fake would load its loop.
LOOK_EVERY = 0.5


@dataclass
class Load:
    """What the bot processes and this one used while the events were sent."""

    bot_cpu: float
    bench_cpu: float
    bench_lag_ms: float

    def __str__(self) -> str:
        return (
            f"bot processes {self.bot_cpu:.0%} of a core, this process {self.bench_cpu:.0%}; "
            f"this process's loop lag up to {self.bench_lag_ms:.0f} ms"
        )


def percentiles(values: list[float]) -> tuple[float, float, float]:
    """p50, p99, max (``values`` not empty)."""
    if len(values) == 1:
        return values[0], values[0], values[0]
    p99 = statistics.quantiles(values, n=100, method="inclusive")[98]
    return statistics.median(values), p99, max(values)


def row(name: str, events: str, values: list[float], late: int = 0) -> str:
    if not values:
        return f"| {name} | {events} | — | — | — | {late} |"
    p50, p99, worst = percentiles(values)
    return f"| {name} | {events} | {p50:.1f} ms | {p99:.1f} ms | {worst:.1f} ms | {late} |"


async def _lag(worst: list[float]) -> None:
    """Keeps the largest overshoot of a 10 ms sleep in ``worst[0]`` (ms)."""
    while True:
        before = time.monotonic()
        await asyncio.sleep(0.01)
        worst[0] = max(worst[0], (time.monotonic() - before - 0.01) * 1000)


async def paced(
    bots: list[BotProcess], count: int, rate: int, send: Callable[[int], Coroutine[Any, Any, Any]]
) -> tuple[list[Any], Load]:
    """``send(i)`` for ``i`` in ``range(count)``, ``rate`` a second, each in a task; their
    results, and what the processes used until the last one returned."""
    pids = [bot.proc.pid for bot in bots if bot.proc is not None]

    def bot_cpu() -> float:
        return sum(map(cpu_seconds, pids))

    # What this process holds by now is never collected, and nothing is while the events are
    # sent: a full collection among the fakes' objects stalled the loop, and the fake's clock
    # with it, for up to 0.65 s (11 of them in one run at 1000/s), and every figure with it.
    gc.freeze()
    gc.disable()
    lag = [0.0]
    watching = asyncio.create_task(_lag(lag))
    bot_before, bench_before, wall_before = bot_cpu(), time.process_time(), time.monotonic()
    sent: list[asyncio.Task[Any]] = []
    started = time.monotonic()
    try:
        for i in range(count):
            await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
            sent.append(asyncio.create_task(send(i)))
        results = await asyncio.gather(*sent)
    finally:
        gc.enable()
    wall = time.monotonic() - wall_before
    load = Load(
        (bot_cpu() - bot_before) / wall, (time.process_time() - bench_before) / wall, lag[0]
    )
    watching.cancel()
    return results, load


@dataclass(frozen=True)
class Layout:
    """How many ``ima-bot run`` processes, on which database."""

    replicas: int
    #: The PostgreSQL server the replicas share; None: one process on SQLite.
    postgres: Server | None
    log: Path | None

    def __str__(self) -> str:
        if self.postgres is None:
            return "one process, SQLite"
        return f"{self.replicas} replicas, PostgreSQL"


@contextlib.asynccontextmanager
async def running(
    layout: Layout, sim: str, platform: str, **fakes: Any
) -> AsyncIterator[list[BotProcess]]:
    """The bot processes of ``layout`` on ``fakes`` (``discord=`` or ``feishu=``), started
    one after another; their logs are kept as ``--log`` asks before their directories go."""
    shared: dict[str, str] = {}
    if layout.postgres is not None:
        shared["DATABASE_URL"] = await layout.postgres.new_database()
    with tempfile.TemporaryDirectory() as tmp:
        bots: list[BotProcess] = []
        try:
            for number in range(layout.replicas):
                home = Path(tmp) / f"replica{number}"
                home.mkdir()
                env = bot_environment(home, sim, SIM_SPEED, feishu_mode="webhook", **fakes)
                env.update(shared)
                if layout.postgres is not None:
                    env.update(REPLICA_ID=f"replica-{number}", **_shard(platform, layout, number))
                bots.append(BotProcess(home, env))
                await bots[-1].start()
            yield bots
        finally:
            for number, bot in enumerate(bots):
                await bot.close()
                if layout.log is not None and bot.log_path.exists():
                    name = f"{layout.log.stem}.{platform}{number}{layout.log.suffix}"
                    layout.log.with_name(name).write_text(bot.log())


def _shard(platform: str, layout: Layout, number: int) -> Mapping[str, str]:
    if platform != "discord":
        return {}
    return {"DISCORD_SHARD_COUNT": str(layout.replicas), "DISCORD_SHARD_IDS": str(number)}


async def until(done: Callable[[], bool], seconds: float) -> None:
    """Until ``done()`` or ``seconds`` passed, looking every :data:`LOOK_EVERY` (not on every
    change of the fake, whose waiters would load its loop)."""
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(LOOK_EVERY)


async def discord_run(
    layout: Layout, sim: str, rate: int, seconds: float, reply_wait: float
) -> list[str]:
    async with FakeDiscord() as fake, running(layout, sim, "discord", discord=fake) as bots:
        guilds: list[FakeGuild] = [fake.default_guild]
        if layout.replicas > 1:  # one guild per shard, so each replica gets its share
            guilds = [
                await fake.add_guild(f"shard {n}", shard=(n, layout.replicas))
                for n in range(layout.replicas)
            ]
        count = int(rate * seconds)
        users = [fake.add_user(f"user{i}") for i in range(count)]  # one request each
        for i, user in enumerate(users):
            if layout.replicas > 1:  # the default guild's members are anybody
                guilds[i % len(guilds)].members.append(user)
        sent_at: list[float] = [0.0] * count  # wall clock, for the fake's edit times

        async def send(i: int) -> FakeInteraction:
            sent_at[i] = time.time()
            return await fake.send_slash_command(
                "image",
                {"prompt": f"lighthouse {i}"},
                user=users[i],
                guild_id=guilds[i % len(guilds)].id,
            )

        interactions, load = await paced(bots, count, rate, send)
        # Discord refuses an answer after 3 s: one without a response by then is late.
        await until(lambda: all(it.responded_at for it in interactions), 5)
        deferrals = [
            (it.responded_at - it.dispatched_at) * 1000
            for it in interactions
            if it.responded_at is not None
        ]
        late = sum(1 for it in interactions if it.errors or it.responded_at is None)

        def replied() -> list[float]:
            return [
                (edited.timestamp() - sent_at[i]) * 1000
                for i, it in enumerate(interactions)
                if it.original is not None
                and len(it.original.history) > 1
                and (edited := it.original.history[1].edited_at) is not None
            ]

        await until(lambda: len(replied()) == count, reply_wait)
        first = replied()
    events = f"{count:,} at {rate}/s, {layout}"
    answered = f"{len(first):,} of {count:,} at {rate}/s"
    return [
        row("Discord slash command → deferral", events, deferrals, late),
        row("Discord slash command → first reply", answered, first),
        f"Discord, {layout}, while the events arrived: {load}",
    ]


async def feishu_run(
    layout: Layout, sim: str, rate: int, seconds: float, reply_wait: float
) -> list[str]:
    async with FakeFeishu() as fake, running(layout, sim, "feishu", feishu=fake) as bots:
        count = int(rate * seconds)
        events = [  # one person each, as on Discord (else all wait in one person's turn)
            fake.events.group_text_mentioning_bot(
                f"画一座灯塔 {i}", chat_id=f"oc_b{i}", sender=fake.events.new_user(f"user{i}")
            )
            for i in range(count)
        ]
        posted: dict[str, float] = {}  # message id → wall clock, for the card times

        async def send(i: int) -> float | None:
            """Milliseconds to the HTTP 200; None for any other answer (the message was not
            stored in time: Feishu sends it again later, and the fake does)."""
            event = events[i]
            posted[event["event"]["message"]["message_id"]] = time.time()
            started = time.monotonic()
            result = await fake.post_event(bots[i % len(bots)].webhook_url, event)
            return (time.monotonic() - started) * 1000 if result.status == 200 else None

        answers, load = await paced(bots, count, rate, send)
        acks = [a for a in answers if a is not None]

        def cards() -> list[float]:
            return [
                m.create_time_ms - posted[m.reply_to] * 1000
                for m in fake.messages
                if m.msg_type == "interactive" and m.reply_to in posted
            ]

        await until(lambda: len(cards()) >= count, reply_wait)
        first = cards()
    events_sent = f"{count:,} at {rate}/s, {layout}"
    answered = f"{len(first):,} of {count:,} at {rate}/s"
    return [
        row("Feishu webhook → HTTP 200", events_sent, acks, count - len(acks)),
        row("Feishu webhook → first card", answered, first),
        f"Feishu, {layout}, while the events arrived: {load}",
    ]


@contextlib.contextmanager
def database(replicas: int) -> Iterator[Server | None]:
    """The PostgreSQL server replicas share; None for one process (SQLite)."""
    if replicas == 1:
        yield None
        return
    with contextlib.contextmanager(start_server)() as postgres:
        yield postgres


async def main(args: argparse.Namespace) -> None:
    runs = {"discord": discord_run, "feishu": feishu_run}
    notes: list[str] = []
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    print("| event → first reply | events | p50 | p99 | max | not acknowledged in time |")
    print("|---|---:|---:|---:|---:|---:|", flush=True)
    with simulator_process(SIM_SPEED) as sim, database(args.replicas) as postgres:
        layout = Layout(args.replicas, postgres, args.log)
        for platform in args.platform or list(runs):
            *rows, note = await runs[platform](
                layout, sim, args.rate, args.seconds, args.reply_wait
            )
            print("\n".join(rows), flush=True)
            notes.append(note)
    print()
    print("\n".join(notes))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument(
        "--platform", action="append", choices=["discord", "feishu"], help="default: both"
    )
    parser.add_argument(
        "--reply-wait", type=float, default=60, help="seconds to wait for the first replies"
    )
    parser.add_argument("--replicas", type=int, default=1, help="N processes on PostgreSQL")
    parser.add_argument("--log", type=Path, help="keep the bots' logs: PATH.<platform><n>.jsonl")
    asyncio.run(main(parser.parse_args()))
