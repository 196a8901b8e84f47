"""Answers to questions from the live catalog and the ledger (the simulator serves the catalog)."""

from __future__ import annotations

import time

from core.answers import Answers, Asked
from core.i18n import Translator
from core.ima.tasks import MediaKind
from core.messages import Messages
from core.parse import Quality, QuestionTopic
from core.policy import Policy
from core.wants import Wants
from tests.core.harness import Harness

say = Messages(Translator.load())


async def answer(
    h: Harness,
    asked: Asked,
    locale: str = "en",
    *,
    user: int | None = None,
    chat: int | None = None,
) -> str:
    policy = Policy(user_daily_credits=user, chat_daily_credits=chat)
    answers = Answers(h.bot.client, h.store, policy)
    lines = await answers.answer(
        asked, platform="test", user_id="u1", chat_id="chat", now=time.time(), admin=False
    )
    return "\n".join(say.text(locale, m) for m in lines)


async def test_prices_per_model_for_a_medium(h: Harness) -> None:
    text = await answer(h, Asked(QuestionTopic.PRICE, MediaKind.VIDEO))
    assert "What videos from text cost" in text
    assert "• Wan 2.6: 25–120 pts" in text.splitlines()[1]  # the recommended one first
    ten = await answer(h, Asked(QuestionTopic.PRICE, MediaKind.VIDEO, wants=Wants(duration=10)))
    assert "• Wan 2.6: 80 pts" in ten  # priced for what was asked (10 s at its default 1080P)
    one = await answer(h, Asked(QuestionTopic.PRICE, model="Kling O1"))
    assert "Kling O1" in one
    assert "Wan 2.6" not in one


async def test_which_models_do_something(h: Harness) -> None:
    sound = await answer(h, Asked(QuestionTopic.MODELS, MediaKind.VIDEO, feature="audio"))
    assert "Google Veo 3.1" in sound
    assert "Hailuo 2.3" not in sound
    # no medium said: sound is asked of videos, lyrics of songs
    unsaid = await answer(h, Asked(QuestionTopic.MODELS, feature="audio"))
    assert "Google Veo 3.1" in unsaid
    lyrics = await answer(h, Asked(QuestionTopic.MODELS, feature="lyrics"))
    assert "Suno" in lyrics
    no = await answer(
        h, Asked(QuestionTopic.CAPABILITIES, MediaKind.VIDEO, feature="audio", model="Hailuo 2.3")
    )
    assert no.startswith("No, Hailuo 2.3 can't do sound")
    yes = await answer(h, Asked(QuestionTopic.CAPABILITIES, feature="audio", model="veo"), "zh")
    assert yes.startswith("可以，Google Veo 3.1 支持生成声音")
    frames = await answer(
        h, Asked(QuestionTopic.MODELS, MediaKind.VIDEO, feature="first_last_frame")
    )
    assert "Kling O1" in frames
    wide = await answer(h, Asked(QuestionTopic.MODELS, MediaKind.IMAGE, feature="aspect_ratio",
                                 wants=Wants(aspect_ratio="4:5")))  # fmt: skip
    assert "Nano Banana Pro" in wide


async def test_times_limits_and_what_it_can_do(h: Harness) -> None:
    times = await answer(h, Asked(QuestionTopic.TIME, MediaKind.MUSIC))
    assert "• Suno: about" in times
    longest = await answer(h, Asked(QuestionTopic.LIMITS, MediaKind.VIDEO))
    assert "up to 15 seconds" in longest
    assert "up to 4 at once" in longest
    biggest = await answer(h, Asked(QuestionTopic.LIMITS, MediaKind.IMAGE))
    assert "4K" in biggest
    can = await answer(h, Asked(QuestionTopic.CAPABILITIES, MediaKind.MUSIC), "zh")
    assert can.startswith("可以！音乐可以用")


async def test_credits_left_under_the_caps(h: Harness) -> None:
    await h.say("draw a cat")  # 5 credits
    assert "There is no credit limit here" in await answer(h, Asked(QuestionTopic.CREDITS))
    capped = await answer(h, Asked(QuestionTopic.CREDITS), user=20, chat=100)
    assert "You've used 5 pts today" in capped
    assert "Your limit is 20 pts per day: 15 pts left" in capped
    assert "This chat's limit is 100 pts per day: 95 pts left" in capped
    assert "Limits start again in " in capped


async def test_a_ratio_asked_with_no_medium_is_answered_for_pictures_and_videos(
    h: Harness,
) -> None:
    wide = Wants(aspect_ratio="21:9")
    text = await answer(h, Asked(QuestionTopic.MODELS, feature="aspect_ratio", wants=wide))
    title, pictures, videos = text.splitlines()
    assert title == "Models that do the 21:9 format:"
    assert "SeeDream 4.5" in pictures
    assert "Seedance 2.0" in videos
    assert "Wan 2.6" not in videos  # it has no 21:9
    zh = await answer(h, Asked(QuestionTopic.MODELS, feature="4k"), "zh")
    assert zh.splitlines()[-1] == "• 视频：暂无"  # no video model makes 4K


async def test_the_cheapest_and_the_best_for_a_medium(h: Harness) -> None:
    cheapest = await answer(
        h, Asked(QuestionTopic.OTHER, MediaKind.VIDEO, quality=Quality.CHEAPEST)
    )
    assert (
        cheapest == "The cheapest for videos from text is Hailuo 2.3: 12 pts at its usual settings."
    )
    best = await answer(h, Asked(QuestionTopic.MODELS, MediaKind.IMAGE, quality=Quality.BEST), "zh")
    assert best.startswith("文生图最好的是 Nano Banana Pro")


async def test_a_long_list_names_the_models_it_leaves_out(h: Harness) -> None:
    text = await answer(h, Asked(QuestionTopic.PRICE, MediaKind.VIDEO))
    *_, more = text.splitlines()
    assert more.startswith("Also: ")
    assert "Kling O1" in more  # in the catalog, past the first six listed
