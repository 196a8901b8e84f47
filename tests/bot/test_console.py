"""The console adapter: line parsing without a terminal, and a scripted conversation."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.console.adapter import run_console
from bot.console.event import parse_line
from core.ima.errors import ImageUnreachableError
from sim.app import start_simulator
from sim.media import render_png
from tests.core.test_engine import make_engine


async def test_parse_line_attaches_local_images(tmp_path: Path) -> None:
    photo = tmp_path / "my photo.png"
    photo.write_bytes(render_png("p", 4, 4))
    request = parse_line(f'turn @"{photo}" into a painting, email me@example.com', user_id="u")
    assert request.text == "turn into a painting, email me@example.com"
    [attachment] = request.attachments
    assert attachment.name == "my photo.png"
    assert await attachment.fetch(1 << 20) == photo.read_bytes()
    missing = parse_line("@/nowhere/x.png animate", user_id="u").attachments[0]
    with pytest.raises(ImageUnreachableError):
        await missing.fetch(1 << 20)


async def test_scripted_conversation_and_button_press(tmp_path: Path) -> None:
    async with await start_simulator(speed=0.001, seed=3) as sim:
        engine, store = await make_engine(sim, str(tmp_path / "bot.db"))
        sim.state.faults.push("create", "rs2")  # the first generation fails
        script = io.StringIO("draw a cat\n!1\n")
        out = io.StringIO()
        await run_console(engine, script, out, echo=True, sequential=True)
        text = out.getvalue()
        assert "[you] draw a cat" in text
        assert "❌ Your image couldn't be created" in text
        assert "[1] Retry with" in text
        assert "✅ Your image is ready!" in text  # the pressed button ran another model
        await engine.client.session.close()
        await store.close()
