"""Drills: ``ima-bot run`` and ``ima-bot admin`` started where they can't work.

A restart policy only helps when a process that can't work exits: each of these must end at
once, non-zero, with one sentence naming the cause, and never a raw traceback.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from sim.app import start_simulator
from tests.drills.process import BotProcess, bot_environment
from tests.fakes.discord import FakeDiscord
from tests.fakes.feishu import FakeFeishu

#: No process may take longer than this to give up.
GIVE_UP_WITHIN = 30.0


async def finished(bot: BotProcess, *args: str) -> tuple[int, list[str]]:
    """Run ``ima-bot <args>`` to its end; its exit status and what it wrote to stderr."""
    proc = await bot.spawn(*args)
    code = await asyncio.wait_for(bot.finished(proc), GIVE_UP_WITHIN)  # never hangs
    return code, bot.log().splitlines()


def unusable_path(kind: str, tmp: Path) -> str:
    if kind == "directory":
        (tmp / "bot.db").mkdir()
        return str(tmp / "bot.db")
    if kind == "text file":
        (tmp / "bot.db").write_text("these are my notes, not a database\n")
        return str(tmp / "bot.db")
    return "/sys/ima-bot.db"  # a place nobody can write, not even root


@pytest.mark.parametrize("kind", ["directory", "text file", "read-only place"])
@pytest.mark.parametrize("command", [("run",), ("admin", "jobs")], ids=["run", "admin"])
async def test_an_unusable_database_path_is_one_sentence_and_an_exit(
    tmp_path: Path, kind: str, command: tuple[str, ...]
) -> None:
    path = unusable_path(kind, tmp_path)
    bot = BotProcess(tmp_path, bot_environment(tmp_path, "http://127.0.0.1:9", 1.0,
                                               DATABASE_URL=path))  # fmt: skip
    code, lines = await finished(bot, *command)
    assert code == 1
    [line] = [line for line in lines if "PyNaCl" not in line and "davey" not in line]
    assert "Traceback" not in line
    if command[0] == "run":  # the long-running command says it in its log format
        entry = json.loads(line)
        assert entry["level"] == "ERROR"
        line = entry["msg"]
    assert line.startswith(f"The database {path} can't be")
    assert line.endswith(".")


@pytest.mark.parametrize("platform", ["discord", "feishu"])
async def test_a_refused_token_or_secret_is_one_logged_sentence_and_an_exit(
    tmp_path: Path, platform: str
) -> None:
    async with (
        FakeDiscord() as discord,
        FakeFeishu() as feishu,
        await start_simulator(speed=0.01) as sim,
    ):
        if platform == "discord":
            env = bot_environment(tmp_path, sim, 1.0, discord=discord, DISCORD_TOKEN="wrong")
        else:
            env = bot_environment(tmp_path, sim, 1.0, feishu=feishu, FEISHU_APP_SECRET="wrong")
        bot = BotProcess(tmp_path, env)
        code, lines = await finished(bot, "run")

    assert code == 1
    entries = [json.loads(line) for line in lines]  # every line in the log format
    [error] = [e for e in entries if e["level"] in ("ERROR", "CRITICAL")]
    assert error["msg"].startswith(f"the {platform} adapter could not start: ")
    assert "exc" not in error  # no traceback
    assert "wrong" not in error["msg"]  # the secret is not in the log
