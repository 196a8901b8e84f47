"""Carrying on from a result in Feishu: its card's buttons, replies to the card, the history."""

from __future__ import annotations

import json
from typing import Any

from core.actions import Verb
from tests.bot.feishu.conftest import Bot, buttons, card_text, header, image_keys, verb
from tests.fakes.feishu import SentMessage
from tests.recording import same_file


async def finished_image(
    bot: Bot, text: str = "draw a red fox"
) -> tuple[dict[str, Any], SentMessage]:
    event = bot.fake.events.group_text_mentioning_bot(text)
    await bot.deliver(event)
    final = await bot.final_card(event)
    assert header(final)["template"] == "green"
    return final, await bot.card_for(event)


def press(bot: Bot, card: SentMessage, value: dict[str, Any], who: Any = None) -> dict[str, Any]:
    return bot.fake.events.card_action(
        value, message_id=card.message_id, chat_id=card.chat_id, operator=who
    )


async def test_animate_button_on_a_result_card(bot: Bot) -> None:
    final, card = await finished_image(bot)
    animate = next(b for b in buttons(final) if verb(b) is Verb.ANIMATE)
    await bot.deliver(press(bot, card, animate["value"]))
    await bot.fake.wait_until(lambda: len(bot.creates) == 2, "the video was created")
    assert bot.creates[-1]["task_type"] == "image_to_video"
    [source] = bot.creates[-1]["src_img_url"]
    jobs = await bot.store.recent_jobs("feishu", bot.fake.events.default_user.open_id)
    [fox] = [j for j in jobs if j.task_type.value == "text_to_image"]
    assert await same_file(source, fox.result_urls[0])  # the picture, uploaded again


async def test_reply_to_a_result_card_carries_on(bot: Bot) -> None:
    _, card = await finished_image(bot)
    reply = bot.fake.events.group_text_mentioning_bot("让它动起来")
    reply["event"]["message"]["parent_id"] = card.message_id
    reply["event"]["message"]["root_id"] = card.message_id
    await bot.deliver(reply)
    await bot.fake.wait_until(lambda: len(bot.creates) == 2, "the video was created")
    assert bot.creates[-1]["task_type"] == "image_to_video"
    [source] = bot.creates[-1]["src_img_url"]
    assert source.startswith(f"{bot.sim.base_url}/cdn/")  # the picture, uploaded again
    first = json.loads((await bot.card_for(reply)).original_content)
    assert "🎬 开始生成视频" in card_text(first)  # its own four steps, in the reply's language

    stranger = bot.fake.events.new_user("Mallory")
    theirs = bot.fake.events.group_text_mentioning_bot("make it bluer", sender=stranger)
    theirs["event"]["message"]["parent_id"] = card.message_id
    await bot.deliver(theirs)
    refused = await bot.card_for(theirs)
    assert "Only the person who made this" in card_text(refused.json())
    assert len(bot.creates) == 2


async def test_history_in_plain_chat(bot: Bot) -> None:
    await finished_image(bot, "draw a lighthouse")
    event = bot.fake.events.dm_text("我的作品")
    await bot.deliver(event)
    listing = await bot.card_for(event)
    card = listing.json()
    assert "画" not in card_text(card)  # the prompt is shown as written
    assert "lighthouse" in card_text(card)
    [show] = [b for b in buttons(card) if verb(b) is Verb.SHOW]
    await bot.deliver(press(bot, listing, show["value"]))
    shown = await bot.fake.wait_for_message(
        lambda m: m.msg_type == "interactive" and "SeeDream 4.5" in m.content and m is not listing
    )
    assert image_keys(shown.json())


async def test_result_buttons_only_for_the_owner_and_after_a_restart(hook: Bot) -> None:
    final, card = await finished_image(hook)
    await hook.restart()
    soundtrack = next(b for b in buttons(final) if verb(b) is Verb.SOUNDTRACK)
    stranger = hook.fake.events.new_user("Mallory")
    refused = await hook.fake.post_event(hook.url, press(hook, card, soundtrack["value"], stranger))
    assert refused.json()["toast"]["content"] == hook.engine.text("en", "action.not_yours")
    await hook.deliver(press(hook, card, soundtrack["value"]))
    await hook.fake.wait_until(lambda: len(hook.creates) == 2, "the soundtrack was created")
    assert hook.creates[-1]["task_type"] == "text_to_music"
    assert "red fox" in hook.creates[-1]["parameters"][0]["parameters"]["prompt"]
