"""Understanding through the real discord.py against the fake: questions are answered and cost
nothing, a request the bot is unsure of is made on a tap, an edit carries on without quoting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.ima.tasks import TaskType
from sim.app import RunningSimulator
from tests.bot.discord.conftest import SCALE
from tests.bot.discord.world import World, finished, world_at
from tests.fakes.discord import FakeDiscord, StoredMessage

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
async def chatty(fake: FakeDiscord, sim: RunningSimulator, tmp_path: Path) -> AsyncIterator[World]:
    async with world_at(fake, sim, tmp_path / "bot.db", scale=SCALE, message_content=True) as w:
        yield w


async def test_a_question_naming_a_medium_is_answered_not_made(chatty: World) -> None:
    fake = chatty.fake
    channel = fake.default_channel.id
    await fake.send_message(
        channel, f"{fake.bot_user.mention} how much does a video cost?", mentions=[fake.bot_user]
    )
    answer = await fake.wait_for_message(channel, lambda m: m.author is fake.bot_user)
    assert answer.content.startswith("What videos from text cost"), answer.content
    assert answer.content.count("Wan 2.6") == 1
    await chatty.settle()
    assert chatty.creates == []


async def test_catalog_questions_are_answered_from_the_live_catalog(chatty: World) -> None:
    fake = chatty.fake
    dm = fake.dm_channel(fake.default_user).id
    await fake.send_message(dm, "which models do 21:9?")
    ratio = await fake.wait_for_message(dm, lambda m: m.author is fake.bot_user)
    assert ratio.content.startswith("Models that do the 21:9 format:"), ratio.content
    assert "Seedance 2.0" in ratio.content  # videos too, not only pictures
    await fake.send_message(dm, "哪个 model 做 video 最便宜")
    cheapest = await fake.wait_for_message(
        dm, lambda m: m.author is fake.bot_user and m is not ratio
    )
    assert cheapest.content == "文生视频最便宜的是 Hailuo 2.3，默认设置下 12 积分。", (
        cheapest.content
    )
    await chatty.settle()
    assert chatty.creates == []


async def test_a_picture_sent_with_a_question_is_not_transformed(chatty: World) -> None:
    fake = chatty.fake
    dm = fake.dm_channel(fake.default_user).id
    await fake.send_message(dm, "is this real?", attachments=[("cat.png", "image/png", PNG)])
    answer = await fake.wait_for_message(dm, lambda m: m.author is fake.bot_user)
    assert "change it" in answer.content, answer.content
    await chatty.settle()
    assert chatty.creates == []


async def test_a_request_the_bot_is_unsure_of_is_made_on_a_tap(chatty: World) -> None:
    fake = chatty.fake
    dm = fake.dm_channel(fake.default_user).id
    await fake.send_message(dm, "a picture of a dragon made of clouds?")
    proposal = await fake.wait_for_message(dm, lambda m: m.author is fake.bot_user)
    assert "Shall I go ahead?" in proposal.content
    await chatty.settle()
    assert chatty.creates == []
    go = next(i for i in proposal.custom_ids() if i.startswith("ima:c:"))
    press = await fake.press_button(proposal, go)
    assert await press.wait_for_response() == 6
    result = await fake.wait_for_message(dm, lambda m: m is not proposal and finished(m))
    assert result.content.startswith("✅")
    [body] = chatty.creates
    assert "dragon made of clouds" in body["parameters"][0]["parameters"]["prompt"]


async def test_a_typed_yes_answers_the_proposal(chatty: World) -> None:
    fake = chatty.fake
    dm = fake.dm_channel(fake.default_user).id
    await fake.send_message(dm, "画一只会飞的猫？")
    await fake.wait_for_message(dm, lambda m: m.author is fake.bot_user)
    await fake.send_message(dm, "好的")
    await fake.wait_for(lambda: len(chatty.creates) == 1, timeout=10, what="the tapped job")


async def test_an_edit_without_quoting_carries_on_from_the_last_result(chatty: World) -> None:
    fake = chatty.fake
    dm = fake.dm_channel(fake.default_user).id
    await fake.send_message(dm, "draw a red fox in the snow")
    first: StoredMessage = await fake.wait_for_message(
        dm, lambda m: m.author is fake.bot_user and finished(m)
    )
    await fake.send_message(dm, "make it vertical")
    await fake.wait_for_message(
        dm, lambda m: m.author is fake.bot_user and m is not first and finished(m)
    )
    fox, vertical = chatty.creates
    assert fox["parameters"][0]["parameters"]["prompt"] == "a red fox in the snow"
    again = vertical["parameters"][0]["parameters"]
    assert again["prompt"] == "a red fox in the snow"  # the same request, not glued words
    assert again["size"] == "1440x2560"  # 9:16


async def test_a_model_named_first_is_asked_about_and_a_typed_yes_saves_it(
    chatty: World,
) -> None:
    """/image with a model, nothing saved yet: "make it your default?" follows, only for the
    person, with buttons; a typed "yes" in the DM answers it (the typed words need no tap)."""
    world = chatty
    fake = world.fake
    user = str(fake.default_user.id)
    interaction = await fake.send_slash_command(
        "image", {"prompt": "a castle on a cloud", "model": "Nano Banana Pro"}
    )
    await interaction.wait_for_original(finished)
    question = await fake.wait_for_message(
        fake.default_channel.id, lambda m: "your default" in m.content
    )
    assert question.ephemeral
    assert question.content == "💡 Make Nano Banana Pro your default for images from text?"
    assert any(i.startswith("ima:") for i in question.custom_ids())
    pref = await world.store.get_preference("discord", user, TaskType.TEXT_TO_IMAGE)
    assert pref is not None
    assert not pref.chosen  # saved because it was used, until they answer
    dm = fake.dm_channel(fake.default_user).id
    await fake.send_message(dm, "yes")
    saved = await fake.wait_for_message(dm, lambda m: m.author is fake.bot_user)
    assert saved.content.startswith("✅ Got it! From now on I'll use Nano Banana Pro")
    pref = await world.store.get_preference("discord", user, TaskType.TEXT_TO_IMAGE)
    assert pref is not None
    assert (pref.model_name, pref.chosen) == ("Nano Banana Pro", True)
