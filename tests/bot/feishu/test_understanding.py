"""Understanding through the real lark-oapi against the fake Feishu: a question in a group is
answered and costs nothing, a request the bot is unsure of is made from the card's button, an
edit carries on from the last result without quoting it."""

from __future__ import annotations

from core.actions import Verb
from tests.bot.feishu.conftest import Bot, buttons, card_text, header, verb


async def test_a_question_in_a_group_is_answered_not_made(bot: Bot) -> None:
    event = bot.fake.events.group_text_mentioning_bot("视频多少积分？")
    await bot.deliver(event)
    answer = card_text((await bot.card_for(event)).json())
    assert answer.startswith("文生视频的价格"), answer
    await bot.settle()
    assert bot.creates == []


async def test_which_models_and_the_cheapest_are_answered_in_a_group(bot: Bot) -> None:
    ratio = bot.fake.events.group_text_mentioning_bot("哪些模型支持21:9？")
    await bot.deliver(ratio)
    answer = card_text((await bot.card_for(ratio)).json())
    assert answer.startswith("支持 21:9 比例的模型："), answer
    assert "视频：Seedance 2.0 fast" in answer
    cheapest = bot.fake.events.group_text_mentioning_bot("whats the cheapest model for videos")
    await bot.deliver(cheapest)
    answer = card_text((await bot.card_for(cheapest)).json())
    assert (
        "The cheapest for videos from text is Hailuo 2.3: 12 pts at its usual settings." in answer
    ), answer
    await bot.settle()
    assert bot.creates == []


async def test_usage_is_answered_from_the_ledger(bot: Bot) -> None:
    made = bot.fake.events.group_text_mentioning_bot("画一只狐狸")
    await bot.deliver(made)
    await bot.final_card(made)
    asked = bot.fake.events.group_text_mentioning_bot("我的额度还剩多少")
    await bot.deliver(asked)
    answer = card_text((await bot.card_for(asked)).json())
    assert "你今天已用 5 积分" in answer, answer
    assert len(bot.creates) == 1


async def test_an_unsure_request_is_made_from_the_card_button(bot: Bot) -> None:
    event = bot.fake.events.group_text_mentioning_bot("画一只会飞的猫？")
    await bot.deliver(event)
    card = await bot.card_for(event)
    [go] = [b for b in buttons(card.json()) if verb(b) is Verb.CONFIRM]
    await bot.settle()
    assert bot.creates == []
    press = bot.fake.events.card_action(
        go["value"], message_id=card.message_id, chat_id=card.chat_id
    )
    await bot.deliver(press)
    await bot.fake.wait_until(lambda: len(bot.creates) == 1, "made on the tap")


async def test_an_unquoted_edit_changes_the_last_result(bot: Bot) -> None:
    first = bot.fake.events.group_text_mentioning_bot("画一只雪地里的红狐狸")
    await bot.deliver(first)
    assert header(await bot.final_card(first))["template"] == "green"
    edit = bot.fake.events.group_text_mentioning_bot("改成竖屏")
    await bot.deliver(edit)
    await bot.fake.wait_until(lambda: len(bot.creates) == 2, "the edit was made")
    fox, vertical = (c["parameters"][0]["parameters"] for c in bot.creates)
    assert vertical["prompt"] == fox["prompt"]
    assert vertical["size"] == "1440x2560"  # 9:16


async def test_a_typed_yes_makes_a_model_named_first_the_default(bot: Bot) -> None:
    named = bot.fake.events.group_text_mentioning_bot("用 Nano Banana Pro 画一座云上的城堡")
    await bot.deliver(named)
    await bot.final_card(named)
    await bot.settle()
    yes = bot.fake.events.group_text_mentioning_bot("好")
    await bot.deliver(yes)
    answer = card_text((await bot.card_for(yes)).json())
    assert answer.startswith("✅ 已记住！以后文生图默认用 Nano Banana Pro"), answer
    [body] = bot.creates  # the answer spends nothing
    assert body["parameters"][0]["model_name"] == "Nano Banana Pro"
