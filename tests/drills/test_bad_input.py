"""Drill: a corpus of bad input. Each gets a plain answer or a clean refusal; nothing breaks."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.ima.errors import ImageUnreachableError
from core.replier import Stage
from core.request import Attachment, ChatRequest
from sim.app import start_simulator
from sim.media import render_png
from tests.core.test_engine import TECHNICAL, Harness, make_engine
from tests.recording import RecordingReplier

PNG = render_png("x", 8, 8)


def attachment_of(data: bytes | None, name: str = "file.png") -> Attachment:
    async def fetch(max_bytes: int) -> bytes:
        if data is None:
            raise ImageUnreachableError("the link does not answer")
        return data

    return Attachment(name=name, fetch=fetch)


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
    ("pdf as image", "turn this into a painting", (attachment_of(b"%PDF-1.7 ...", "a.png"),)),
    ("50 MB image", "turn this into a painting", (attachment_of(PNG + b"\0" * (50 << 20)),)),
    ("unreachable image", "animate this video", (attachment_of(None),)),
    ("three frames", "首尾帧视频", tuple(attachment_of(PNG) for _ in range(3))),
    ("huge lyrics", "a pop song, lyrics: " + "la " * 2000, ()),
]


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    async with await start_simulator(speed=0.001, seed=13) as sim:
        engine, store = await make_engine(sim, str(tmp_path / "bot.db"))
        yield Harness(sim, engine, store, tmp_path / "bot.db")
        await engine.client.session.close()
        await store.close()


@pytest.mark.parametrize(("name", "text", "attachments"), CORPUS, ids=[c[0] for c in CORPUS])
async def test_bad_input_gets_a_plain_answer(
    h: Harness, name: str, text: str, attachments: tuple[Attachment, ...]
) -> None:
    replier = RecordingReplier()
    request = ChatRequest("test", "u1", "chat", {"user": "u1"}, text, attachments)
    await h.engine.handle(request, replier)
    assert replier.messages, "every message gets an answer"
    final = replier.messages[-1].current
    assert final.text.strip()
    assert not TECHNICAL.search(final.text), final.text
    assert final.stage in (Stage.INFO, Stage.QUESTION, Stage.FAILURE, Stage.SUCCESS)
    if attachments:  # a bad file is refused before anything is created
        assert h.sim.state.calls("create") == []
    with sqlite3.connect(h.db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
