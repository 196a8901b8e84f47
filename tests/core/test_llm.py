"""The understanding model against a local OpenAI-compatible fake: answers and every fallback."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from core.ima.tasks import MediaKind
from core.llm import Kind, LLMConfig, LLMReader, Reading, Topic
from core.metrics import UNDERSTANDING_FALLBACKS
from tests.fakes.openai import FakeOpenAI

KEY = "sk-very-secret-key-0123456789"


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(key=KEY) as server:
        yield server


def reader(fake: FakeOpenAI, *, key: str = KEY, timeout: float = 0.5) -> LLMReader:
    return LLMReader(LLMConfig(fake.base_url, "tiny-model", key, timeout))


async def read(r: LLMReader, text: str = "how much is a video?") -> Reading | None:
    try:
        return await r.read(text, images=0, recent=["a red fox"], models=["Kling O1"], locale="en")
    finally:
        await r.close()


def fallbacks(reason: str) -> float:
    return float(UNDERSTANDING_FALLBACKS.labels(reason)._value.get())


async def test_a_valid_answer_is_read(fake: FakeOpenAI) -> None:
    fake.answer = {
        "kind": "question", "media": "video", "topic": "price", "preference": None, "prompt": None
    }  # fmt: skip
    reading = await read(reader(fake))
    assert reading == Reading(Kind.QUESTION, MediaKind.VIDEO, Topic.PRICE)
    [request] = fake.requests
    assert request["response_format"]["json_schema"]["strict"] is True
    assert request["temperature"] == 0
    told = fake.said()
    assert told["message"] == "how much is a video?"
    assert told["latest_results"] == ["a red fox"]
    assert told["models_on_offer"] == ["Kling O1"]


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("slow", "timeout"),
        ("malformed", "malformed"),
        ("refuse", "refused"),
        ("error", "http_error"),
        ("garbage", "malformed"),
    ],
)
async def test_anything_but_a_valid_answer_falls_back_and_is_counted(
    fake: FakeOpenAI, mode: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.mode = mode
    before = fallbacks(reason)
    assert await read(reader(fake, timeout=0.3)) is None
    assert fallbacks(reason) == before + 1
    assert reason in caplog.text
    assert KEY not in caplog.text


@pytest.mark.parametrize(
    "answer",
    [
        {"kind": "generate"},  # keys missing
        {"kind": "spend", "media": None, "topic": None, "preference": None, "prompt": None},
        {"kind": "chat", "media": "gif", "topic": None, "preference": None, "prompt": None},
        {"kind": "chat", "media": None, "topic": None, "preference": None, "prompt": 3},
        {"kind": "chat", "media": None, "topic": None, "preference": None, "prompt": None, "x": 1},
    ],
)
async def test_answers_outside_the_schema_fall_back(
    fake: FakeOpenAI, answer: dict[str, object]
) -> None:
    fake.answer = answer
    before = fallbacks("invalid")
    assert await read(reader(fake)) is None
    assert fallbacks("invalid") == before + 1


async def test_a_wrong_key_falls_back_without_logging_it(
    fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert await read(reader(fake, key="sk-wrong-key-not-this-one")) is None
    assert "sk-wrong-key" not in caplog.text
    assert "sk-wrong-key" not in repr(LLMConfig("u", "m", "sk-wrong-key"))


async def test_an_unreachable_endpoint_falls_back() -> None:
    r = LLMReader(LLMConfig("http://127.0.0.1:9/v1", "m", KEY, 0.5))
    before = fallbacks("unreachable")
    assert await read(r) is None
    assert fallbacks("unreachable") == before + 1
