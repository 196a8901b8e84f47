"""Conversations through the engine, against the simulator, with recording repliers."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace
from pathlib import Path

import pytest

from core.actions import Verb, decode
from core.door import Access, ActionResult
from core.ima.tasks import MediaKind, TaskType
from core.jobs import Job, JobState, ModelSource, new_job_id
from core.replier import Handle, Reply, Stage
from core.request import Options
from sim.app import start_simulator
from tests.core.harness import (
    SCALE,
    Harness,
    actions,
    assert_four_steps,
    assert_plain,
    harness,
    request,
    retry_with_model,
)
from tests.recording import RecordingReplier

# ── the seven task types ────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("text", "images", "task_type"),
    [
        ("画一只戴墨镜的柴犬", 0, TaskType.TEXT_TO_IMAGE),
        ("turn this photo into an oil painting", 1, TaskType.IMAGE_TO_IMAGE),
        ("a video of a puppy dancing in the rain", 0, TaskType.TEXT_TO_VIDEO),
        ("让这张图动起来", 1, TaskType.IMAGE_TO_VIDEO),
        ("用这两张图做首尾帧视频", 2, TaskType.FIRST_LAST_FRAME_TO_VIDEO),
        (
            "a video of this character walking, use these as reference",
            2,
            TaskType.REFERENCE_IMAGE_TO_VIDEO,
        ),
        ("写一首轻快的歌，关于下雨天", 0, TaskType.TEXT_TO_MUSIC),
    ],
)
async def test_task_types(h: Harness, text: str, images: int, task_type: TaskType) -> None:
    replier = await h.say(text, images=images)
    assert_four_steps(replier, task_type.media)
    [body] = h.creates
    assert body["task_type"] == task_type.value
    assert len(body["src_img_url"]) == images  # every attached picture, uploaded
    before = replier.messages[0].history[0].text
    zh = bool(re.search(r"[\u4e00-\u9fff]", text))
    assert ("模型" in before) is zh
    pref = await h.store.get_preference("test", "u1", task_type)
    assert pref is not None  # the default is saved after the first success


async def test_before_message_content(h: Harness) -> None:
    replier = await h.say("a video of waves at sunset, 10 seconds, 1080p")
    before = replier.messages[0].history[0].text
    body = h.creates[0]["parameters"][0]
    assert "Wan 2.6" in before
    assert f"{body['credit']} pts" in before
    assert "keep you posted" in before
    # 80 points is over 50: a cheaper model is named.
    assert "Want to spend less?" in before


async def test_n_results(h: Harness) -> None:
    replier = await h.say("generate 3 images of a red fox")
    assert_four_steps(replier, MediaKind.IMAGE, count=3)
    assert h.creates[0]["parameters"][0]["parameters"]["n"] == 3
    assert "× 3" in replier.messages[0].history[0].text


async def test_slash_command_options_win(h: Harness) -> None:
    options = Options(media=MediaKind.IMAGE, model="Nano Banana Pro", size="4K", count=2)
    replier = await h.say("a lighthouse", options=options, locale="zh-CN")
    assert_four_steps(replier, MediaKind.IMAGE, count=2)
    entry = h.creates[0]["parameters"][0]
    assert entry["model_name"] == "Nano Banana Pro"
    assert entry["parameters"]["size"] == "4K"
    assert "模型" in replier.messages[0].history[0].text
    assert "要把 Nano Banana Pro 设为以后文生图的默认模型吗" in replier.last.text


# ── preferences ─────────────────────────────────────────────────────────────────────────


async def test_a_model_left_out_of_one_request_gives_way_to_the_default(h: Harness) -> None:
    """ "…but dont use sora" with Sora saved as the default: this video is made with the
    recommended default (not the catalog's first, dearer model), and Sora stays saved."""
    await h.say("以后视频都用sora")
    await h.say("video of a fox in the snow but dont use sora")
    assert h.creates[-1]["parameters"][0]["model_name"] == "Wan 2.6"
    pref = await h.store.get_preference("test", "u1", TaskType.TEXT_TO_VIDEO)
    assert pref is not None
    assert pref.model_name == "Sora 2 Pro"


async def test_always_then_usual_then_reset(h: Harness) -> None:
    replier = await h.say("以后都用可灵")
    assert "Kling O1" in replier.last.text
    pref = await h.store.get_preference("test", "u1", TaskType.TEXT_TO_VIDEO)
    assert pref is not None
    assert pref.model_name == "Kling O1"
    replier = await h.say("生成一段海浪的视频")
    assert "根据你的使用习惯" in replier.messages[0].history[0].text
    assert h.creates[-1]["parameters"][0]["model_id"] == "kling-video-o1"
    replier = await h.say("清除我的偏好")
    assert await h.store.list_preferences("test", "u1") == {}
    assert replier.last.stage is Stage.INFO


async def test_explicit_model_asks_to_save_and_button_saves(h: Harness) -> None:
    await h.say("draw a cat")  # saves SeeDream 4.5 as the default
    replier = await h.say("use Nano Banana Pro to draw a dog")
    final, question = (m.current for m in replier.messages)
    assert final.stage is Stage.SUCCESS
    assert "your default" not in final.text  # asked on its own, only of the person
    assert (question.stage, question.private) == (Stage.QUESTION, True)
    assert "Make Nano Banana Pro your default?" in question.text
    [save] = actions(question, Verb.SAVE)
    assert (await h.press(save, user="someone-else"))[0] is ActionResult.NOT_YOURS
    assert (await h.press(save))[0] is ActionResult.DONE
    pref = await h.store.get_preference("test", "u1", TaskType.TEXT_TO_IMAGE)
    assert pref is not None
    assert pref.model_name == "Nano Banana Pro"


async def test_typed_no_keeps_preference(h: Harness) -> None:
    await h.say("draw a cat")
    await h.say("use Nano Banana Pro to draw a dog")
    replier = await h.say("no")
    assert "stays your default" in replier.last.text
    pref = await h.store.get_preference("test", "u1", TaskType.TEXT_TO_IMAGE)
    assert pref is not None
    assert pref.model_name == "SeeDream 4.5"


async def test_another_model_offers_three_and_runs_the_pick(h: Harness) -> None:
    await h.say("draw a cat")
    replier = await h.say("换个模型")
    question = replier.last
    assert question.stage is Stage.QUESTION
    assert 1 <= len(question.buttons) <= 3
    assert all("SeeDream" not in b.label for b in question.buttons)
    result, pick = await h.press(question.buttons[0].action)
    assert result is ActionResult.DONE
    assert pick.messages[0].current.stage is Stage.SUCCESS
    assert h.creates[-1]["parameters"][0]["model_name"] != "SeeDream 4.5"
    assert (
        h.creates[-1]["parameters"][0]["parameters"]["prompt"]
        == h.creates[0]["parameters"][0]["parameters"]["prompt"]
    )


async def test_best_and_cheapest_inline(h: Harness) -> None:
    await h.say("用最好的模型画一只猫")
    assert h.creates[-1]["parameters"][0]["model_name"] == "Nano Banana Pro"
    await h.say("用最便宜的模型画一只狗")
    assert (
        h.creates[-1]["parameters"][0]["model_name"] == "SeeDream 4.5"
    )  # 5 credits as used; Nano Banana 2 makes 1K for 6
    pref = await h.store.get_preference("test", "u1", TaskType.TEXT_TO_IMAGE)
    assert pref is not None
    assert pref.model_name == "Nano Banana Pro"  # cheapest is not saved, best is


async def test_another_model_with_a_new_request_is_not_the_usual_one(h: Harness) -> None:
    await h.say("画一只兔子")
    assert h.creates[-1]["parameters"][0]["model_name"] == "SeeDream 4.5"
    await h.say("换个模型画一只猫")
    assert h.creates[-1]["parameters"][0]["model_name"] != "SeeDream 4.5"
    replier = await h.say("能不能换个模型再来一次")
    assert len(h.creates) == 2  # other models offered as buttons, nothing made again
    assert replier.last.buttons


async def test_a_family_name_offers_the_member_that_can_do_it(h: Harness) -> None:
    """ "seedance" finds Seedance 1.5 Pro (4/8/12 s); for 10 s the family's Seedance 2.0 fast
    can, at 130 credits, over twice the first find's lowest price: offered, not made."""
    replier = await h.say("seedance 做一个 十秒 的奶茶广告短片")
    assert h.creates == []
    assert "Seedance 2.0 fast" in replier.last.text
    assert "130" in replier.last.text


async def test_a_family_name_takes_the_member_the_prompt_names(h: Harness) -> None:
    await h.say("用豆包做个BGM，适合vlog的轻快音乐")
    assert h.creates[-1]["parameters"][0]["model_name"] == "DouBao - BGM"
    await h.say("用豆包写首歌 关于夏天")
    assert h.creates[-1]["parameters"][0]["model_name"] == "DouBao - Song"


async def test_a_model_left_out_of_a_request_is_not_used_nor_forgotten(h: Harness) -> None:
    await h.say("以后都用即梦")
    await h.say("画只猫 这次别用即梦")
    assert h.creates[-1]["parameters"][0]["model_name"] != "SeeDream 4.5"
    pref = await h.store.get_preference("test", "u1", TaskType.TEXT_TO_IMAGE)
    assert pref is not None
    assert pref.model_name == "SeeDream 4.5"  # one request, not a reset


async def test_model_named_for_the_wrong_kind(h: Harness) -> None:
    replier = await h.say("用 Suno 画一只猫")
    assert replier.last.stage is Stage.INFO
    assert "Suno" in replier.last.text
    assert h.creates == []


# ── advice before anything is spent ─────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("8K wallpaper of a mountain lake", "4K"),
        ("video in 8k of a waterfall", "1080P"),
        ("来个8K的视频 瀑布", "1080P"),
        ("画一张 7:3 的横幅图片，山水", "7:3"),
        ("生成一段30秒的视频，城市夜景", "15"),
        ("写一首5分钟的音乐", "Suno"),
    ],
)
async def test_unsupported_requests_get_advice(h: Harness, text: str, expected: str) -> None:
    replier = await h.say(text)
    assert replier.last.stage in (Stage.INFO, Stage.QUESTION)  # a question: it offers one
    assert expected in replier.last.text
    assert_plain(replier.last.text)
    assert h.creates == []


async def test_audio_on_a_model_without_it(h: Harness) -> None:
    replier = await h.say("用 Hailuo 2.3 生成带音效的视频，海浪")
    assert replier.last.stage is Stage.QUESTION  # it offers a model with sound
    assert h.creates == []


async def test_a_wish_the_default_cant_meet_is_made_by_a_capable_model_at_its_price(
    h: Harness,
) -> None:
    """Sound, no model named: the default (Wan 2.6) has none and the first model with sound
    costs more than twice its price, so the first one in the catalog that has sound within that
    price makes it (no offer, as no dearer model is bought)."""
    replier = await h.say("生成带音效的视频，海浪")
    [made] = h.creates
    job = made["parameters"][0]
    assert job["model_name"] != "Wan 2.6"
    assert job["parameters"].get("generate_audio") is True
    assert job["credit"] <= 2 * 25  # planning.FIT_PRICE_FACTOR × Wan 2.6's lowest price
    assert replier.messages[0].current.stage is not Stage.QUESTION


async def test_the_closest_thing_is_offered_and_made_with_a_yes(h: Harness) -> None:
    offer = (await h.say("8K wallpaper of a mountain lake")).last
    assert "8K isn't offered" in offer.text
    assert [decode(b.action).verb for b in offer.buttons] == [Verb.CONFIRM, Verb.CANCEL]  # type: ignore[union-attr]
    assert h.creates == []
    await h.say("yes")
    [made] = h.creates
    assert made["parameters"][0]["parameters"]["size"] == "4K"
    assert made["parameters"][0]["credit"] * 1 == int(offer.buttons[0].label.split()[-2])


async def test_an_8k_video_is_offered_at_the_highest_resolution_there_is(h: Harness) -> None:
    offer = (await h.say("video in 8k of a waterfall")).last
    assert offer.stage is Stage.QUESTION
    assert "8K isn't offered" in offer.text
    assert h.creates == []
    await h.say("yes")
    [made] = h.creates
    assert made["parameters"][0]["parameters"]["resolution"].upper() == "1080P"


async def test_an_offer_is_answered_by_its_buttons_and_typed_no(h: Harness) -> None:
    offer = (await h.say("用 Hailuo 2.3 生成带音效的视频，海浪")).last
    no = await h.say("不用了")
    assert "不生成" in no.last.text
    assert (await h.press(offer.buttons[0].action))[0] is ActionResult.UNKNOWN  # answered
    again = (await h.say("用 Hailuo 2.3 生成带音效的视频，海浪")).last
    assert (await h.press(again.buttons[0].action, user="someone"))[0] is ActionResult.UNKNOWN
    result, made = await h.press(again.buttons[0].action)
    assert result is ActionResult.DONE
    assert made.messages[0].current.stage is Stage.SUCCESS
    assert h.creates[-1]["parameters"][0]["model_name"] != "Hailuo 2.3"


@pytest.mark.parametrize(
    ("text", "images"),
    [("首尾帧视频，从白天到黑夜", 0), ("", 0), ("a cat in space", 0)],
)
async def test_questions_instead_of_guesses(h: Harness, text: str, images: int) -> None:
    replier = await h.say(text, images=images)
    assert replier.last.stage is Stage.QUESTION
    assert h.creates == []


# ── failures ────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("fault", "reason", "alternatives"),
    [
        ("rs2", "try another model", True),
        ("failed", "try a different model", True),
        ("moderation", "restricted content", False),
        ("timeout", "took too long", True),
        ("401", "administrator", False),
        ("4008", "administrator", False),
        ("4014", "subscription", True),
        ("503", "temporarily unavailable", True),
        ("500", "may have been made", False),  # maybe created: nothing more is suggested
        ("6010", "incompatible", True),
    ],
)
async def test_failures_are_translated_with_alternatives(
    h: Harness, fault: str, reason: str, alternatives: bool
) -> None:
    if fault in ("6010",):
        h.sim.state.faults.push("create", fault, times=2)
        text = "draw a cat"
    elif fault.isdigit():
        h.sim.state.faults.push("create", fault)
        text = "draw a cat"
    else:
        text = f"draw a cat [[sim:{fault}]]"
    replier = await h.say(text)
    final = replier.messages[0].current
    assert final.stage is Stage.FAILURE
    assert reason in final.text
    assert_plain(final.text)
    retry_buttons = [b for b in final.buttons if b.action in retry_with_model(final)]
    assert bool(retry_buttons) is alternatives
    if alternatives:
        assert "SeeDream" not in " ".join(b.label for b in retry_buttons)
    job = (await h.store.recent_jobs("test", "u1", 1))[0]
    assert job.state is JobState.FAILED


async def test_rate_limit_and_network_failures(h: Harness) -> None:
    h.sim.state.faults.push("create", "429", times=4)  # every attempt the client makes
    replier = await h.say("draw a cat")
    assert "wait a moment" in replier.messages[0].current.text
    h.sim.state.faults.push("create", "reset")  # the create may have reached IMA
    replier = await h.say("draw a dog")
    final = replier.messages[0].current
    assert "may have been made" in final.text
    assert final.buttons == ()  # trying again could charge twice
    # The refused one is given back; the one that may have been made stays counted.
    assert sum(r.credits for r in await h.store.usage("2000-01-01")) == 5


async def test_retry_button_runs_alternative(h: Harness) -> None:
    h.sim.state.faults.push("create", "rs2")
    replier = await h.say("draw a cat")
    button = retry_with_model(replier.messages[0].current)[0]
    assert (await h.press(button, user="intruder"))[0] is ActionResult.NOT_YOURS
    result, retry = await h.press(button)
    assert result is ActionResult.DONE
    assert retry.messages[0].current.stage is Stage.SUCCESS


# ── limits, duplicates, restarts ────────────────────────────────────────────────────────


async def test_per_user_limit_queues_the_rest(tmp_path: Path) -> None:
    async with (
        await start_simulator(speed=SCALE, seed=5) as sim,
        harness(sim, tmp_path / "db", max_jobs_per_user=2) as h,
    ):
        repliers = [RecordingReplier() for _ in range(4)]
        for i, r in enumerate(repliers):
            await h.say(f"a video of waves {i}", replier=r, wait=False)
        await h.engine.drain()
        waited = [r for r in repliers if "waiting for its turn" in r.messages[0].history[0].text]
        assert len(waited) == 2
        assert all(r.last.stage is Stage.SUCCESS for r in repliers)
        assert len(h.creates) == 4


async def test_duplicate_message_runs_once(h: Harness) -> None:
    first = await h.say("draw a cat", message_id="ev-1")
    second = await h.say("draw a cat", message_id="ev-1")
    assert len(first.messages) == 1
    assert second.messages == []
    assert len(h.creates) == 1


async def test_restart_mid_poll_delivers_exactly_once(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    async with await start_simulator(speed=0.005, seed=9) as sim:
        async with harness(sim, db) as h:
            replier = RecordingReplier()
            texts = ["a video of waves", "a video of a forest", "draw a cat"]
            for i, text in enumerate(texts):
                await h.say(text, user=f"u{i}", replier=replier, wait=False)
            while len(sim.state.tasks) < 3:  # noqa: ASYNC110 - the simulator has no event for it
                await asyncio.sleep(0.01)
            while any(j.state is not JobState.RUNNING for j in await h.store.active_jobs()):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        assert all(m.current.stage is not Stage.SUCCESS for m in replier.messages)

        async with harness(sim, db) as h2:
            assert await h2.engine.resume() == 3
            await h2.engine.drain()
            assert await h2.engine.resume() == 0  # nothing left: no second delivery
            successes = [
                r
                for rep in h2.rebuilt.values()
                for r in rep.all_replies()
                if r.stage is Stage.SUCCESS
            ]
            assert len(successes) == 3
            assert len(sim.state.calls("create")) == 3
            assert all(
                j.state is JobState.DELIVERED for j in await h2.store.recent_jobs("test", "u0")
            )


def stored_job(state: JobState) -> Job:
    return Job(
        id=new_job_id(), platform="test", user_id="u1", chat_id="c", locale="en",
        task_type=TaskType.TEXT_TO_IMAGE, version_id="doubao-seedream-4-5-251128",
        model_id="doubao-seedream-4.5", model_name="SeeDream 4.5", prompt="a cat", params={},
        n=1, credits=5, source=ModelSource.DEFAULT, reply_target={"user": "u1"},
        handle=Handle("7"), state=state,
    )  # fmt: skip


async def test_job_never_sent_is_sent_after_a_restart(h: Harness) -> None:
    job = stored_job(JobState.ACCEPTED)
    await h.store.admit(job)
    assert await h.engine.resume() == 1
    await h.engine.drain()
    assert len(h.creates) == 1
    assert h.rebuilt["u1"].all_replies()[-1].stage is Stage.SUCCESS


async def test_job_maybe_sent_is_never_sent_again(h: Harness) -> None:
    job = stored_job(JobState.ACCEPTED)
    await h.store.admit(job)
    assert await h.store.mark_creating(job.id)
    await h.engine.resume()
    await h.engine.drain()
    assert h.creates == []
    last = h.rebuilt["u1"].all_replies()[-1]
    assert last.stage is Stage.FAILURE
    assert "may have been made" in last.text
    stored = await h.store.get_job(job.id)
    assert stored is not None
    assert stored.state is JobState.FAILED
    assert sum(r.credits for r in await h.store.usage("1970-01-01")) == 5  # still counted


# ── operators' controls ─────────────────────────────────────────────────────────────────


async def test_daily_caps_are_told_before_spending(tmp_path: Path) -> None:
    async with (
        await start_simulator(speed=SCALE, seed=6) as sim,
        harness(
            sim,
            tmp_path / "db",
            access=Access(admins=frozenset({"boss"})),
            user_daily_credits=12,
            chat_daily_credits=1000,
        ) as h,
    ):
        await h.say("draw a cat")  # 5 credits
        await h.say("draw a dog")  # 10
        over = await h.say("draw a bird")  # 15 > 12
        assert over.last.stage is Stage.INFO
        assert "12 credits" in over.last.text
        assert len(sim.state.calls("create")) == 2
        for _ in range(3):
            await h.say("draw a fish", user="boss")
        assert len(sim.state.calls("create")) == 5


async def test_allowlist_and_banned_words(tmp_path: Path) -> None:
    async with (
        await start_simulator(speed=SCALE, seed=6) as sim,
        harness(
            sim,
            tmp_path / "db",
            access=Access(allowed_places=frozenset({"chat-ok"})),
            banned_words="Forbidden",
        ) as h,
    ):
        replier = await h.say("draw a cat")  # chat id "chat" is not allowed
        assert "not enabled" in replier.last.text
        replier = await h.say("draw a forbidden cat", chat="guild", places=("chat-ok",))
        assert "can't create that" in replier.last.text
        assert sim.state.calls("create") == []


async def test_cancelled_job_stops_and_says_so(h: Harness) -> None:
    replier = await h.say("a video of a slow sunrise [[sim:timeout]]", wait=False)
    while not (jobs := await h.store.active_jobs()) or jobs[0].state is not JobState.RUNNING:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    assert await h.store.mark_cancelled(jobs[0].id, at=0)
    await asyncio.wait_for(h.engine.drain(), 10)
    assert "administrator stopped" in replier.messages[0].current.text


async def test_cancel_before_create_is_never_created(h: Harness) -> None:
    job = stored_job(JobState.ACCEPTED)
    await h.store.admit(job)
    assert await h.store.mark_cancelled(job.id, at=0)
    assert await h.engine.resume() == 0
    assert h.creates == []
    assert await h.store.usage("1970-01-01") == []  # never sent: given back


async def test_again_redoes_the_last_request(h: Harness) -> None:
    assert (await h.say("再来一次")).last.stage is Stage.INFO  # nothing to redo yet
    await h.say("draw a red fox")
    replier = await h.say("again")
    assert replier.messages[0].current.stage is Stage.SUCCESS
    first, second = (c["parameters"][0]["parameters"]["prompt"] for c in h.creates)
    assert first == second


async def test_double_pressed_retry_runs_once(h: Harness) -> None:
    h.sim.state.faults.push("create", "rs2")
    replier = await h.say("draw a cat")
    button = retry_with_model(replier.messages[0].current)[0]
    await asyncio.gather(h.press(button), h.press(button))
    assert len(h.creates) == 2  # the failed one and one retry


async def test_shutdown_leaves_running_jobs_to_resume(h: Harness) -> None:
    await h.say("a video of rain", wait=False)
    while not (jobs := await h.store.active_jobs()) or jobs[0].state is not JobState.RUNNING:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    await h.engine.shutdown()
    stored = await h.store.get_job(jobs[0].id)
    assert stored is not None
    assert stored.state is JobState.RUNNING


class RefusingReplier(RecordingReplier):
    """A chat that refuses some messages (a deleted channel, a platform outage)."""

    def __init__(self, refuse: set[Stage]) -> None:
        super().__init__()
        self.refuse = refuse

    async def send(self, reply: Reply) -> Handle:
        if reply.stage in self.refuse:
            raise RuntimeError("platform said no")
        return await super().send(reply)

    async def edit(self, handle: Handle, reply: Reply) -> Handle:
        if reply.stage in self.refuse:
            raise RuntimeError("platform said no")
        return await super().edit(handle, reply)


async def test_unseen_job_spends_nothing(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("core.runner._SHOW_PAUSES", (0.0, 0.0))
    await h.say("draw a cat", replier=RefusingReplier({Stage.BEFORE}))
    assert h.creates == []
    [job] = await h.store.recent_jobs("test", "u1")
    assert job.state is JobState.FAILED
    assert await h.store.usage("2000-01-01") == []


async def test_refused_result_is_shown_again_quietly_at_the_next_start(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("core.runner._SHOW_PAUSES", (0.0, 0.0))
    await h.say("draw a cat", replier=RefusingReplier({Stage.SUCCESS}))
    [job] = await h.store.recent_jobs("test", "u1")
    assert job.state is JobState.DELIVERING
    assert await h.engine.resume() == 1
    await h.engine.drain()
    [again] = h.rebuilt["u1"].messages
    assert again.handle == job.handle  # edited in place, not posted anew
    assert again.current.stage is Stage.SUCCESS
    assert again.current.quiet
    assert len(h.creates) == 1


async def test_operators_can_ask_groups_to_confirm_expensive_jobs(tmp_path: Path) -> None:
    async with (
        await start_simulator(speed=SCALE, seed=8) as sim,
        harness(sim, tmp_path / "db", confirm_above_credits=20) as h,
    ):
        cheap = await h.say("draw a cat")  # 5 credits: made at once
        assert cheap.messages[0].current.stage is Stage.SUCCESS
        asked = (await h.say("a video of waves")).last  # 25+ credits in a group
        assert asked.stage is Stage.QUESTION
        assert "Shall I go ahead?" in asked.text
        assert len(h.creates) == 1
        await h.say("ok")
        assert len(h.creates) == 2
        private = replace(request("a video of rain"), private=True)
        replier = RecordingReplier()
        await h.engine.deliver(private, replier, _nothing)
        await h.engine.drain()
        assert replier.messages[0].current.stage is Stage.SUCCESS  # a DM is never asked
        assert len(h.creates) == 3


async def _nothing() -> None:
    """No acknowledgement needed."""


async def test_an_acknowledgement_never_waits_for_the_senders_turn(h: Harness) -> None:
    acked = asyncio.Event()

    async def ack() -> None:
        acked.set()

    replier = RecordingReplier()
    async with h.engine._turns.take(("test", "chat", "u1")):  # their previous message, going
        delivered = asyncio.create_task(h.engine.deliver(request("draw a cat"), replier, ack))
        await asyncio.wait_for(acked.wait(), 5)  # stored and acknowledged meanwhile
        await asyncio.sleep(0.05)
        assert replier.messages == []  # but answered only in its turn
    await delivered
    await h.engine.drain()
    assert replier.messages[0].current.stage is Stage.SUCCESS


async def test_a_redelivery_in_a_busy_line_is_acknowledged_and_ignored(h: Harness) -> None:
    again = request("draw a cat")
    await h.say("draw a cat", message_id=again.message_id)
    replier = RecordingReplier()
    async with h.engine._turns.take(("test", "chat", "u1")):
        await asyncio.wait_for(h.engine.deliver(again, replier, _nothing), 5)
    await h.engine.drain()
    assert replier.messages == []
    assert len(h.creates) == 1


# ── preferences saved by use, and the question after a model named first ───────────────


async def test_a_model_saved_by_use_gives_way_to_one_that_can_do_a_wish(h: Harness) -> None:
    """The first video saves Wan 2.6 because it was used; "加上海浪声" then moves to a model
    with sound at the default's price, as it would from the recommended default."""
    await h.say("做个海边日落的视频")
    pref = await h.store.get_preference("test", "u1", TaskType.TEXT_TO_VIDEO)
    assert pref is not None
    assert (pref.model_name, pref.chosen) == ("Wan 2.6", False)
    replier = await h.say("加上海浪声")
    assert replier.messages[0].current.stage is Stage.SUCCESS
    entry = h.creates[-1]["parameters"][0]
    assert entry["model_name"] != "Wan 2.6"
    assert entry["credit"] <= 2 * 25  # within FIT_PRICE_FACTOR of Wan 2.6's lowest price
    saved = await h.store.get_preference("test", "u1", TaskType.TEXT_TO_VIDEO)
    assert saved == pref  # a model fitted for one wish is not saved


async def test_a_chosen_preference_stays_binding(h: Harness) -> None:
    await h.say("以后视频都用万相")
    await h.say("做个海浪拍打礁石的视频")
    replier = await h.say("加上海浪声")
    assert len(h.creates) == 1  # refused with an offer: nothing more is spent
    assert replier.last.stage is Stage.QUESTION
    assert "Wan 2.6" in replier.last.text


@pytest.mark.parametrize(
    ("first", "answer", "saved"),
    [
        ("use Nano Banana Pro to draw a castle on a cloud", "yes", "Nano Banana Pro"),
        ("用 Nano Banana Pro 画一座云上的城堡", "好", "Nano Banana Pro"),
        ("use Nano Banana Pro to draw a castle on a cloud", "no", None),
        ("用 Nano Banana Pro 画一座云上的城堡", "不用了", None),
    ],
)
async def test_a_model_named_first_asks_and_a_typed_answer_decides(
    h: Harness, first: str, answer: str, saved: str | None
) -> None:
    replier = await h.say(first)
    question = replier.last
    assert (question.stage, question.private) == (Stage.QUESTION, True)
    assert "Nano Banana Pro" in question.text
    assert {a.verb for b in question.buttons if (a := decode(b.action))} == {Verb.SAVE, Verb.KEEP}
    pref = await h.store.get_preference("test", "u1", TaskType.TEXT_TO_IMAGE)
    assert pref is not None
    assert not pref.chosen  # saved because it was used, until they answer
    await h.say(answer)
    pref = await h.store.get_preference("test", "u1", TaskType.TEXT_TO_IMAGE)
    if saved is None:
        assert pref is None  # "just this once": the recommended model again
        await h.say("draw a dog")
        assert h.creates[-1]["parameters"][0]["model_name"] == "SeeDream 4.5"
    else:
        assert pref is not None
        assert (pref.model_name, pref.chosen) == (saved, True)


async def test_the_question_after_a_model_named_first_is_answered_by_its_button(
    h: Harness,
) -> None:
    replier = await h.say("用可灵做个猫咪跳舞的视频")
    [save] = actions(replier.last, Verb.SAVE)
    assert (await h.press(save))[0] is ActionResult.DONE
    pref = await h.store.get_preference("test", "u1", TaskType.TEXT_TO_VIDEO)
    assert pref is not None
    assert (pref.model_name, pref.chosen) == ("Kling O1", True)


# ── "stop using X" with a request beside it ────────────────────────────────────────────


@pytest.mark.parametrize(
    ("always", "text", "stopped", "kept"),
    [
        ("以后都用可灵", "以后别用可灵了，做个猫咪在雪地里打滚的视频", "Kling O1", "雪地"),
        (
            "always use sora for videos",
            "stop using sora, too pricey. make a video of a cat surfing",
            "Sora 2 Pro",
            "cat surfing",
        ),
        ("always use sora", "stop using sora and make me a video of a cat dancing", "Sora", "cat"),
        ("以后都用可灵", "以后不用可灵了 太贵了 帮我做个日落的视频", "Kling O1", "日落"),
    ],
)
async def test_a_stop_with_a_request_resets_and_makes_it_with_the_default(
    h: Harness, always: str, text: str, stopped: str, kept: str
) -> None:
    await h.say(always)
    replier = await h.say(text)
    [body] = h.creates
    entry = body["parameters"][0]
    assert entry["model_name"] == "Wan 2.6"  # the recommended default, never the stopped one
    assert kept in entry["parameters"]["prompt"]
    assert "pricey" not in entry["parameters"]["prompt"]
    assert stopped in replier.messages[0].current.text  # the reset is said first
    pref = await h.store.get_preference("test", "u1", TaskType.TEXT_TO_VIDEO)
    assert pref is not None
    assert (pref.model_name, pref.chosen) == ("Wan 2.6", False)  # saved again by its use


async def test_a_stop_with_nothing_to_make_resets_and_asks(h: Harness) -> None:
    await h.say("always use kling")
    replier = await h.say("stop using kling, make a video")
    assert h.creates == []
    assert replier.last.stage is Stage.QUESTION
    assert await h.store.get_preference("test", "u1", TaskType.TEXT_TO_VIDEO) is None


async def test_stopping_the_recommended_model_never_fits_it_back(h: Harness) -> None:
    """Wan 2.6 is the recommended video model: stopping it saves another as chosen (silent:
    the sound wish beside it is refused with an offer), and Wan 2.6 is neither used nor
    offered."""
    replier = await h.say("stop using wan 2.6, make a video of waves crashing on rocks with sound")
    assert h.creates == []
    assert replier.last.stage is Stage.QUESTION
    assert "with Wan 2.6" not in replier.last.text
    pref = await h.store.get_preference("test", "u1", TaskType.TEXT_TO_VIDEO)
    assert pref is not None
    assert (pref.model_name != "Wan 2.6", pref.chosen) == (True, True)


# ── a format insisted on ──────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("text", "made"),
    [
        ("用海螺做个下雨的街道视频，一定要21:9", False),
        ("hailuo video of a rainy street, must be 21:9", False),
        ("用海螺做个烟花的视频，21:9", True),  # not insisted: made at its own format, said so
    ],
)
async def test_a_ratio_the_named_model_lacks_is_refused_only_when_insisted_on(
    h: Harness, text: str, made: bool
) -> None:
    replier = await h.say(text)
    assert bool(h.creates) is made
    if made:
        assert "21:9" in replier.messages[0].history[0].text
    else:
        question = replier.last
        assert question.stage is Stage.QUESTION
        assert "Seedance" in question.text  # the models that offer it
        assert actions(question, Verb.CONFIRM)  # one tap makes it with one of them


async def test_shown_preferences_tell_a_model_saved_by_use_from_a_chosen_one(h: Harness) -> None:
    await h.say("draw a cat")
    await h.say("always use kling for videos")
    shown = (await h.say("my preferences")).last.text
    assert "• images from text: SeeDream 4.5 (saved because you used it" in shown
    assert "• videos from text: Kling O1\n" in shown + "\n"


async def test_a_format_asked_of_a_named_models_result_is_refused_not_made_again(
    h: Harness,
) -> None:
    """ "make it 21:9" after a Hailuo video: made without 21:9 it would be the same video
    again, so the models that offer it are named instead (one tap to use one)."""
    await h.say("hailuo video of waves hitting a pier")
    replier = await h.say("make it 21:9")
    assert len(h.creates) == 1
    assert replier.last.stage is Stage.QUESTION
    assert "Seedance" in replier.last.text


async def test_words_after_a_stop_with_no_verb_of_making_are_proposed_not_made(
    h: Harness,
) -> None:
    await h.say("always use veo")
    replier = await h.say("dont use veo anymore, pictures from mj are better anyway")
    assert h.creates == []
    assert actions(replier.last, Verb.CONFIRM)  # shown with its price, made on a tap
    assert await h.store.get_preference("test", "u1", TaskType.TEXT_TO_VIDEO) is None
