"""Drill: a corpus of bad input. Each gets a plain answer or a clean refusal; nothing breaks."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from core.door import Platform
from core.ima.errors import ImageUnreachableError
from core.replier import Stage
from core.request import Attachment, ChatRequest
from sim.app import start_simulator
from sim.media import render_png
from tests.core.harness import TECHNICAL, Harness, harness
from tests.recording import RecordingReplier

PNG = render_png("x", 8, 8)
#: What each test attachment holds (None: its link does not answer).
FILES: dict[str, bytes | None] = {
    "pdf": b"%PDF-1.7 ...",
    "huge": PNG + b"\0" * (50 << 20),
    "gone": None,
    "png": PNG,
}


def attachment_of(kind: str, name: str = "file.png") -> Attachment:
    return Attachment(name=name, ref={"file": kind})


async def fetch(ref: Mapping[str, Any], max_bytes: int) -> bytes:
    data = FILES[str(ref["file"])]
    if data is None:
        raise ImageUnreachableError("the link does not answer")
    return data


CORPUS: list[tuple[str, str, tuple[Attachment, ...]]] = [
    ("empty", "", ()),
    ("spaces", "   \n\t ", ()),
    ("huge", "draw " + "a cat " * 4000, ()),
    ("zero-width", "\u200b\u200d\ufeff", ()),
    ("zero-width prompt", "draw a\u200b cat\u200d", ()),
    ("control", "draw a cat \x00\x07\x1b[31m", ()),
    ("emoji only", "🐱🚀", ()),
    ("sql", "draw '; DROP TABLE jobs; --", ()),
    ("rtl", "ارسم قطة draw", ()),
    ("pdf as image", "turn this into a painting", (attachment_of("pdf", "a.png"),)),
    ("50 MB image", "turn this into a painting", (attachment_of("huge"),)),
    ("unreachable image", "animate this video", (attachment_of("gone"),)),
    ("three frames", "首尾帧视频", tuple(attachment_of("png") for _ in range(3))),
    (
        "two pictures to edit",
        "turn this into a painting",
        tuple(attachment_of("png") for _ in range(2)),
    ),
    ("huge lyrics", "a pop song, lyrics: " + "la " * 2000, ()),
]


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with (
        await start_simulator(speed=0.001, seed=13) as sim,
        harness(sim, tmp_path / "bot.db") as running,
    ):
        running.engine.register(Platform("test", running._rebuild, fetch))
        yield running


@pytest.mark.parametrize(("name", "text", "attachments"), CORPUS, ids=[c[0] for c in CORPUS])
async def test_bad_input_gets_a_plain_answer(
    h: Harness, name: str, text: str, attachments: tuple[Attachment, ...]
) -> None:
    replier = RecordingReplier()
    request = ChatRequest("test", "u1", "chat", {"user": "u1"}, text, f"m-{name}", attachments)
    await h.engine.deliver(request, replier, _nothing)
    await h.engine.drain()
    assert replier.messages, "every message gets an answer"
    final = replier.messages[-1].current
    assert final.text.strip()
    assert not TECHNICAL.search(final.text), final.text
    assert final.stage in (Stage.INFO, Stage.QUESTION, Stage.FAILURE, Stage.SUCCESS)
    if attachments:  # a bad file is refused before anything is created
        assert h.sim.state.calls("create") == []
    with sqlite3.connect(h.db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


async def _nothing() -> None:
    """No acknowledgement needed here."""
