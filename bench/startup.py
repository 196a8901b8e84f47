"""How long each one-shot command takes to start: from the process being spawned to its first
request reaching the IMA simulator (``generate``, ``console``), to the simulator it runs
answering (``sim``), or to its first line of output (``admin``).

Each command runs as a user runs it, a new Python process (``python -m bot.cli``), several times.
The table gives the fastest run (the start-up itself, as on an otherwise idle machine), the
median (what other work on the machine adds), and the median CPU time the process used, which
other work changes much less (the process is stopped the moment it is seen). The simulator the
commands talk to runs in this process, and is looked at every millisecond for a first request.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp

from sim.app import RunningSimulator, start_simulator

KEY = "ima_startup_bench_key_0123456789"
#: Seconds between two looks at the simulator (the measurement's resolution).
LOOK_EVERY = 0.001
TARGET = 0.5


def environment(sim_url: str, database: Path) -> dict[str, str]:
    """The settings of every run: the simulator, a scratch database, no chat platform."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IMA_", "DISCORD_", "FEISHU_"))}
    env.update(
        IMA_API_KEY=KEY,
        IMA_BASE_URL=sim_url,
        IMA_UPLOAD_BASE_URL=sim_url,
        DATABASE_URL=str(database),
    )
    return env


async def spawn(*args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    """``ima-bot ARGS`` in the scratch directory (no ``.env`` there)."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args,
        env=env,
        cwd=str(Path(env["DATABASE_URL"]).parent),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip


async def until(predicate: Callable[[], bool]) -> None:
    # Looking at a fixed pace is the measurement: a notification would cost the simulator time.
    while not predicate():  # noqa: ASYNC110
        await asyncio.sleep(LOOK_EVERY)


async def to_first_request(sim: RunningSimulator, env: dict[str, str], *args: str) -> float:
    """Spawn the command; seconds until the simulator has its first request."""
    seen = len(sim.state.requests)
    started = time.monotonic()
    process = await spawn(*args, env=env)
    await until(lambda: len(sim.state.requests) > seen)
    elapsed = time.monotonic() - started
    await stop(process)
    return elapsed


async def to_first_line(env: dict[str, str], *args: str) -> float:
    """Spawn the command; seconds until it prints its first line."""
    started = time.monotonic()
    process = await spawn(*args, env=env)
    assert process.stdout is not None
    await process.stdout.readline()
    elapsed = time.monotonic() - started
    await stop(process)
    return elapsed


async def to_serving(env: dict[str, str]) -> float:
    """Spawn ``ima-bot sim``; seconds until it answers a request."""
    with socket.socket() as probe:  # a free port for it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    process = await spawn("sim", "--port", str(port), env=env)
    url = f"http://127.0.0.1:{port}/open/v1/product/list?category=text_to_image"
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {KEY}"}) as http:
        while True:
            try:
                async with http.get(url) as response:
                    await response.read()
                    break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(LOOK_EVERY)
    elapsed = time.monotonic() - started
    await stop(process)
    return elapsed


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
    await process.communicate()


def children_cpu() -> float:
    """CPU seconds used by the processes this one has waited for, so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def timed(run: Callable[[], Awaitable[float]], runs: int) -> tuple[list[float], float]:
    """The wall times of ``runs`` runs, and the median CPU time of one."""
    walls, cpus = [], []
    for _ in range(runs):
        before = children_cpu()
        walls.append(await run())
        cpus.append(children_cpu() - before)
    return walls, statistics.median(cpus)


async def measure(runs: int) -> list[str]:
    rows = []
    async with await start_simulator(speed=0.001, seed=1) as sim:
        with tempfile.TemporaryDirectory() as tmp:
            env = environment(sim.base_url, Path(tmp) / "bot.db")
            generate = ("generate", "--task-type", "text_to_image", "--prompt", "a cat")
            commands: list[tuple[str, str, Callable[[], Awaitable[float]]]] = [
                ("ima-bot " + " ".join(generate), "first request",
                 lambda: to_first_request(sim, env, *generate)),
                ("ima-bot console", "first request",
                 lambda: to_first_request(sim, env, "console")),
                ("ima-bot sim", "answering", lambda: to_serving(env)),
                ("ima-bot admin jobs", "first line", lambda: to_first_line(env, "admin", "jobs")),
            ]  # fmt: skip
            await to_first_line(env, "admin", "jobs")  # creates the database the others share
            for name, until_what, run in commands:
                times, cpu = await timed(run, runs)
                fastest, median = min(times), statistics.median(times)
                verdict = "met" if fastest <= TARGET else "missed"
                rows.append(
                    f"| `{name}` | {until_what} | {fastest:.2f} s | {median:.2f} s "
                    f"| {cpu:.2f} s | {verdict} |"
                )
    return rows


async def main(runs: int) -> None:
    print(f"| command | until | fastest of {runs} | median | CPU | target ≤ {TARGET} s |")
    print("|---|---|---:|---:|---:|---|")
    for row in await measure(runs):
        print(row, flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    asyncio.run(main(parser.parse_args().runs))
