"""The engine with a language model reading messages next to the rules (a local fake endpoint):
it fills in what the rules could not tell, never makes anything on its word alone, and when
it gives no usable answer the rules decide as if it were not there."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from core.actions import Verb
from core.ima.tasks import MediaKind
from core.llm import Kind, PreferenceOp, Reading, Topic
from core.parse import Command, parse_message
from core.replier import Stage
from core.understanding import merge
from sim.app import start_simulator
from tests.core.harness import SCALE, Harness, actions, harness
from tests.fakes.openai import FakeOpenAI

KEY = "sk-understanding-secret-4242"


def reading(kind: str, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "media": None, "topic": None, "preference": None, "prompt": None} | (
        fields
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(key=KEY) as server:
        yield server


@pytest.fixture
async def h(tmp_path: Path, fake: FakeOpenAI) -> AsyncIterator[Harness]:
    async with (
        await start_simulator(speed=SCALE, seed=5) as sim,
        harness(
            sim,
            tmp_path / "bot.db",
            intent_llm_base_url=fake.base_url,
            intent_llm_model="tiny",
            intent_llm_api_key=SecretStr(KEY),
            intent_llm_timeout=0.5,
        ) as running,
    ):
        yield running


async def test_a_medium_the_rules_could_not_tell_is_proposed_not_made(
    h: Harness, fake: FakeOpenAI
) -> None:
    fake.answer = reading("generate", media="image", prompt="a lighthouse in a storm")
    replier = await h.say("a lighthouse in a storm")  # no medium in the words
    assert h.creates == []
    reply = replier.last
    assert reply.stage is Stage.QUESTION
    assert actions(reply, Verb.CONFIRM), reply.text
    assert "pts" in reply.text
    await h.press(actions(reply, Verb.CONFIRM)[0])
    assert len(h.creates) == 1  # made on the tap, at the price shown
    assert h.creates[0]["parameters"][0]["parameters"]["prompt"] == "a lighthouse in a storm"


async def test_a_request_the_model_reads_as_a_question_is_proposed(
    h: Harness, fake: FakeOpenAI
) -> None:
    fake.answer = reading("question", topic="capabilities")
    replier = await h.say("draw a cat")
    assert h.creates == []
    assert actions(replier.last, Verb.CONFIRM)


async def test_agreement_makes_it_with_the_rules_details_and_the_cleaned_prompt(
    h: Harness, fake: FakeOpenAI
) -> None:
    fake.answer = reading("generate", media="image", prompt="a red fox standing in deep snow")
    await h.say("hey could you draw me a red fox in the snow, 16:9 please")
    [create] = h.creates
    parameters = create["parameters"][0]
    assert parameters["parameters"]["prompt"] == "a red fox standing in deep snow"
    assert parameters["parameters"]["size"] == "2560x1440"  # 16:9: the rules' detail stays
    assert fake.said()["message"].startswith("hey could you draw me")


async def test_a_remark_the_rules_took_for_a_description_gets_a_reply(
    h: Harness, fake: FakeOpenAI
) -> None:
    fake.answer = reading("chat")
    replier = await h.say("大家晚上好", locale="zh")
    assert h.creates == []
    assert "直接描述给我" in replier.last.text


async def test_a_question_the_rules_missed_is_answered(h: Harness, fake: FakeOpenAI) -> None:
    fake.answer = reading("question", topic="models")
    replier = await h.say("the lineup here")
    assert h.creates == []
    assert "The models I can use" in replier.last.text


async def test_replies_the_rules_are_sure_of_ask_no_model(h: Harness, fake: FakeOpenAI) -> None:
    for text in ("help", "yes", "my history"):
        await h.say(text)
    assert fake.requests == []


@pytest.mark.parametrize("mode", ["slow", "malformed", "refuse", "error", "garbage"])
async def test_without_a_usable_answer_the_rules_decide(
    h: Harness, fake: FakeOpenAI, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake.mode = mode
    fake.delay = 2.0
    caplog.set_level(logging.DEBUG)
    await h.say("draw a cat")
    assert len(h.creates) == 1  # the rules alone: a clear request is made
    replier = await h.say("a lighthouse in a storm")
    assert "picture, a video or a song" in replier.last.text
    assert KEY not in caplog.text
    assert "understanding model not used" in caplog.text


# ── the weighing itself, message by message ───────────────────────────────────────────────

RULES_MADE = "draw a cat"  # the rules: a clear request for a picture
RULES_UNSURE_OF_MEDIUM = "a lighthouse in a storm"  # the rules: which medium?
RULES_QUESTION = "how much does a video cost?"


@pytest.mark.parametrize(
    ("text", "model", "command", "unsure"),
    [
        (RULES_MADE, Reading(Kind.GENERATE, MediaKind.IMAGE), Command.GENERATE, False),
        (RULES_MADE, Reading(Kind.CHAT), Command.GENERATE, True),
        (RULES_MADE, Reading(Kind.QUESTION, topic=Topic.PRICE), Command.GENERATE, True),
        (RULES_UNSURE_OF_MEDIUM, Reading(Kind.GENERATE, MediaKind.VIDEO), Command.GENERATE, True),
        (RULES_UNSURE_OF_MEDIUM, Reading(Kind.CONTINUE), Command.EDIT, True),
        (RULES_UNSURE_OF_MEDIUM, Reading(Kind.CHAT), Command.CHAT, False),
        (RULES_UNSURE_OF_MEDIUM, Reading(Kind.GENERATE), Command.GENERATE, False),  # still asks
        (RULES_QUESTION, Reading(Kind.GENERATE, MediaKind.VIDEO), Command.QUESTION, False),
        (RULES_QUESTION, Reading(Kind.CHAT), Command.QUESTION, False),
    ],
)
def test_merge(text: str, model: Reading, command: Command, unsure: bool) -> None:
    parsed = parse_message(text)
    merged = merge(parsed, model)
    assert (merged.command, merged.unsure) == (command, unsure)
    if parsed.command is Command.GENERATE and not parsed.ambiguous:
        assert merged.media is parsed.media  # what the rules found stays
    if merged.command is Command.GENERATE and not merged.unsure:
        assert not merged.ambiguous or merged.media is None


def test_merge_follows_a_preference_the_rules_missed() -> None:
    parsed = parse_message("meh go back to whatever u had before model wise")
    assert parsed.ambiguous  # the rules would ask which medium
    merged = merge(parsed, Reading(Kind.PREFERENCE, preference=PreferenceOp.RESET))
    assert merged.command is Command.RESET
    assert merge(parsed, None) is parsed
