"""Carrying on from a result: its buttons, replies to it, and the history."""

from __future__ import annotations

from core.actions import Action, Verb, encode
from core.door import ActionResult
from core.ima.tasks import TaskType
from core.replier import Reply, Stage
from tests.core.harness import Harness, actions, harness
from tests.recording import same_file


async def made(h: Harness, text: str, user: str = "u1") -> Reply:
    replier = await h.say(text, user=user)
    final = replier.messages[0].current
    assert final.stage is Stage.SUCCESS
    return final


async def test_result_buttons_by_media(h: Harness) -> None:
    image = await made(h, "generate 2 images of a fox")
    assert len(actions(image, Verb.VARY)) == 2
    assert len(actions(image, Verb.ANIMATE)) == 2
    assert len(actions(image, Verb.FRAME)) == 2
    assert len(actions(image, Verb.SOUNDTRACK)) == 1
    video = await made(h, "a video of rain")
    assert actions(video, Verb.SOUNDTRACK)
    assert not actions(video, Verb.VARY)
    song = await made(h, "a calm piano song")
    assert not song.buttons


async def test_vary_animate_soundtrack_from_an_image(h: Harness) -> None:
    image = await made(h, "draw a red fox in the snow")
    url = image.media[0].url
    for verb, task_type in (
        (Verb.VARY, TaskType.IMAGE_TO_IMAGE),
        (Verb.ANIMATE, TaskType.IMAGE_TO_VIDEO),
        (Verb.SOUNDTRACK, TaskType.TEXT_TO_MUSIC),
    ):
        result, replier = await h.press(actions(image, verb)[0])
        assert result is ActionResult.DONE
        assert replier.messages[0].current.stage is Stage.SUCCESS
        body = h.creates[-1]
        assert body["task_type"] == task_type.value
        inner = body["parameters"][0]["parameters"]
        if task_type is TaskType.TEXT_TO_MUSIC:
            assert body["src_img_url"] == []
            assert "red fox in the snow" in inner["prompt"]
        else:
            [source] = body["src_img_url"]  # the simulator's http result, uploaded again
            assert await same_file(source, url)


async def test_two_results_as_first_and_last_frame(h: Harness) -> None:
    first = await made(h, "draw a sunrise over the sea")
    last = await made(h, "draw a sunset over the sea")
    _, replier = await h.press(actions(first, Verb.FRAME)[0])
    assert "first frame" in replier.last.text
    assert len(h.creates) == 2
    _, replier = await h.press(actions(last, Verb.FRAME)[0])
    assert replier.messages[0].current.stage is Stage.SUCCESS
    body = h.creates[-1]
    assert body["task_type"] == TaskType.FIRST_LAST_FRAME_TO_VIDEO.value
    sources = body["src_img_url"]
    assert await same_file(sources[0], first.media[0].url)
    assert await same_file(sources[1], last.media[0].url)


async def test_replies_to_a_result_carry_on_from_it(h: Harness) -> None:
    await made(h, "draw a lighthouse at night")
    [job] = await h.store.recent_jobs("test", "u1", 1)
    assert job.handle is not None
    for text, task_type in (
        ("make it bluer", TaskType.IMAGE_TO_IMAGE),
        ("让它动起来", TaskType.IMAGE_TO_VIDEO),
        ("配个音乐", TaskType.TEXT_TO_MUSIC),
    ):
        replier = await h.say(text, reply_to=job.handle.message_id)
        assert replier.messages[0].current.stage is Stage.SUCCESS, text
        assert h.creates[-1]["task_type"] == task_type.value
    assert await same_file(h.creates[1]["src_img_url"][0], job.result_urls[0])


async def test_typed_follow_ups_carry_on_from_the_last_result_without_quoting(
    h: Harness,
) -> None:
    """Motion, a conversion with what it shows, a ratio: each continues the latest picture."""
    for text, task_type in (
        ("make him wave", TaskType.IMAGE_TO_VIDEO),
        ("做成视频 让他举起剑", TaskType.IMAGE_TO_VIDEO),
        ("portrait pls", TaskType.TEXT_TO_IMAGE),
    ):
        await made(h, "draw a knight in golden armor")
        [job] = await h.store.recent_jobs("test", "u1", 1)
        replier = await h.say(text)
        assert replier.messages[0].current.stage is Stage.SUCCESS, text
        assert h.creates[-1]["task_type"] == task_type.value, text
        if task_type is TaskType.IMAGE_TO_VIDEO:
            assert await same_file(h.creates[-1]["src_img_url"][0], job.result_urls[0])
    width, height = h.creates[-1]["parameters"][0]["parameters"]["size"].split("x")
    assert int(height) > int(width)  # 9:16 as SeeDream sizes it


async def test_someone_elses_result_is_refused(h: Harness) -> None:
    image = await made(h, "draw a cat")
    [job] = await h.store.recent_jobs("test", "u1", 1)
    result, _ = await h.press(actions(image, Verb.VARY)[0], user="u2")
    assert result is ActionResult.NOT_YOURS
    assert job.handle is not None
    replier = await h.say("make it bluer", user="u2", reply_to=job.handle.message_id)
    assert "Only the person" in replier.last.text
    assert len(h.creates) == 1


async def test_history_lists_and_shows_again(h: Harness) -> None:
    assert "haven't created" in (await h.say("my history")).last.text
    await made(h, "draw a cat")
    await made(h, "a calm piano song")
    listing = (await h.say("我的作品")).last
    assert listing.stage is Stage.INFO
    assert len(listing.buttons) == 2
    assert "piano" in listing.text.splitlines()[1]  # newest first
    _, replier = await h.press(listing.buttons[1].action)
    shown = replier.last
    assert shown.stage is Stage.SUCCESS
    assert shown.media
    assert "SeeDream 4.5" in shown.text
    assert (await h.press(listing.buttons[1].action, user="u2"))[0] is ActionResult.NOT_YOURS


async def test_buttons_of_a_result_from_before_a_restart(h: Harness) -> None:
    image = await made(h, "draw a cat")
    await h.engine.shutdown()
    async with harness(h.sim, h.db_path) as h2:
        result, replier = await h2.press(actions(image, Verb.ANIMATE)[0])
        assert result is ActionResult.DONE
        assert replier.messages[0].current.stage is Stage.SUCCESS


async def test_unknown_or_malformed_buttons(h: Harness) -> None:
    for action in (
        encode(Action(Verb.VARY, "nojob", index=0)),
        "s:abc:-1",
        "vary:x:0",
        "r:" + "x" * 70,
        "",
    ):
        assert (await h.press(action))[0] is ActionResult.UNKNOWN, action
