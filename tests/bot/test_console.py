"""The console adapter: line parsing without a terminal, and a scripted conversation."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.console.adapter import ConsoleAdapter, run_console
from bot.console.event import button_number, parse_line
from core.ima.errors import ImageUnreachableError
from sim.app import start_simulator
from sim.media import render_png
from tests.wiring import bot_on


async def test_parse_line_attaches_local_images(tmp_path: Path) -> None:
    photo = tmp_path / "my photo.png"
    photo.write_bytes(render_png("p", 4, 4))
    request = parse_line(f'turn @"{photo}" into a painting, email me@example.com', number=1)
    assert request.text == "turn into a painting, email me@example.com"
    assert request.message_id == "line-1"
    [attachment] = request.attachments
    assert attachment.name == "my photo.png"
    adapter = ConsoleAdapter(door=None)  # type: ignore[arg-type]
    fetch = adapter.platform().fetch
    assert await fetch(attachment.ref, 1 << 20) == photo.read_bytes()
    missing = parse_line("@/nowhere/x.png animate", number=2).attachments[0]
    with pytest.raises(ImageUnreachableError):
        await fetch(missing.ref, 1 << 20)
    assert (button_number("!3"), button_number(" !12 "), button_number("!x")) == (3, 12, None)


async def test_scripted_conversation_and_button_press(tmp_path: Path) -> None:
    async with (
        await start_simulator(speed=0.001, seed=3) as sim,
        bot_on(sim, tmp_path / "bot.db", scale=0.001) as bot,
    ):
        sim.state.faults.push("create", "rs2")  # the first generation fails
        out = io.StringIO()
        adapter = ConsoleAdapter(bot.engine, out)
        await adapter.start()
        script = io.StringIO("draw a cat\n!1\n!99\n")
        await run_console(adapter, bot.engine.drain, script, echo=True, sequential=True)
        text = out.getvalue()
        assert "[you] draw a cat" in text
        assert "❌ Your image couldn't be created" in text
        assert "[1] Retry with" in text
        assert "✅ Your image is ready!" in text  # the pressed button ran another model
        assert "there is no button 99" in text


async def test_piped_lines_are_understood_in_order(tmp_path: Path) -> None:
    """Lines read as fast as a pipe gives them: the second waits for the first to be read."""
    async with (
        await start_simulator(speed=0.001, seed=3) as sim,
        bot_on(sim, tmp_path / "bot.db", scale=0.001) as bot,
    ):
        out = io.StringIO()
        adapter = ConsoleAdapter(bot.engine, out)
        await adapter.start()
        script = io.StringIO("always use Nano Banana Pro\ndraw a cat\n")
        await run_console(adapter, bot.engine.drain, script)
        [create] = sim.state.calls("create")
        assert create.body["parameters"][0]["model_name"] == "Nano Banana Pro"


async def test_questions_proposals_and_edits_in_the_console(tmp_path: Path) -> None:
    """A question costs nothing, an unsure request waits for its button, an edit carries on."""
    async with (
        await start_simulator(speed=0.001, seed=3) as sim,
        bot_on(sim, tmp_path / "bot.db", scale=0.001) as bot,
    ):
        out = io.StringIO()
        adapter = ConsoleAdapter(bot.engine, out)
        await adapter.start()
        script = io.StringIO(
            "how long do videos take?\n"
            "a picture of a dragon made of clouds?\n"
            "!1\n"
            "make it vertical\n"
        )
        await run_console(adapter, bot.engine.drain, script, echo=True, sequential=True)
        text = out.getvalue()
        assert "How long videos from text take" in text, text
        assert "Shall I go ahead?" in text
        first, vertical = (c.body["parameters"][0]["parameters"] for c in sim.state.calls("create"))
        assert "dragon made of clouds" in first["prompt"]
        assert vertical["prompt"] == first["prompt"]
        assert vertical["size"] == "1440x2560"


async def test_catalog_questions_in_both_languages_in_the_console(tmp_path: Path) -> None:
    """Prices, which models do a ratio, the cheapest, the longest video and credits left, in
    Chinese and English, answered from the live catalog and the ledger; nothing is made."""
    async with (
        await start_simulator(speed=0.001, seed=3) as sim,
        bot_on(sim, tmp_path / "bot.db", scale=0.001) as bot,
    ):
        out = io.StringIO()
        adapter = ConsoleAdapter(bot.engine, out)
        await adapter.start()
        script = io.StringIO(
            "视频多少钱\n"
            "which models do 21:9?\n"
            "哪个 model 做 video 最便宜\n"
            "what's the longest video you can make?\n"
            "我还剩多少积分\n"
        )
        await run_console(adapter, bot.engine.drain, script, echo=True, sequential=True)
        text = out.getvalue()
        assert "文生视频的价格" in text, text
        assert "Models that do the 21:9 format:" in text
        assert "文生视频最便宜的是 Hailuo 2.3，默认设置下 12 积分。" in text
        assert "Videos can be up to 15 seconds long" in text
        assert "你今天已用 0 积分。" in text
        assert sim.state.calls("create") == []
