"""Carrying on from a result: its buttons, replies to it, and the history."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from core.engine import ActionResult
from core.ima.tasks import TaskType
from core.replier import Reply, Stage
from sim.app import start_simulator
from tests.core.test_engine import Harness, make_engine, request
from tests.recording import RecordingReplier, same_file


def actions(reply: Reply, verb: str) -> list[str]:
    return [b.action for b in reply.buttons if b.action.startswith(f"{verb}:")]


async def made(h: Harness, text: str, user: str = "u1") -> Reply:
    replier = await h.say(text, user=user)
    final = replier.messages[0].current
    assert final.stage is Stage.SUCCESS
    return final


async def press(h: Harness, action: str, user: str = "u1") -> tuple[ActionResult, RecordingReplier]:
    replier = RecordingReplier()
    return await h.engine.handle_action("test", user, action, replier), replier


async def test_result_buttons_by_media(h: Harness) -> None:
    image = await made(h, "generate 2 images of a fox")
    assert len(actions(image, "vary")) == 2
    assert len(actions(image, "animate")) == 2
    assert len(actions(image, "frame")) == 2
    assert len(actions(image, "soundtrack")) == 1
    video = await made(h, "a video of rain")
    assert actions(video, "soundtrack")
    assert not actions(video, "vary")
    song = await made(h, "a calm piano song")
    assert not song.buttons


async def test_vary_animate_soundtrack_from_an_image(h: Harness) -> None:
    image = await made(h, "draw a red fox in the snow")
    url = image.media[0].url
    for verb, task_type in (
        ("vary", TaskType.IMAGE_TO_IMAGE),
        ("animate", TaskType.IMAGE_TO_VIDEO),
        ("soundtrack", TaskType.TEXT_TO_MUSIC),
    ):
        result, replier = await press(h, actions(image, verb)[0])
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
    _, replier = await press(h, actions(first, "frame")[0])
    assert "first frame" in replier.last.text
    assert len(h.creates) == 2
    _, replier = await press(h, actions(last, "frame")[0])
    assert replier.messages[0].current.stage is Stage.SUCCESS
    body = h.creates[-1]
    assert body["task_type"] == TaskType.FIRST_LAST_FRAME_TO_VIDEO.value
    sources = body["src_img_url"]
    assert await same_file(sources[0], first.media[0].url)
    assert await same_file(sources[1], last.media[0].url)


async def test_replies_to_a_result_carry_on_from_it(h: Harness) -> None:
    await made(h, "draw a lighthouse at night")
    [job] = await h.store.recent_jobs("test", "u1", 1)
    for text, task_type in (
        ("make it bluer", TaskType.IMAGE_TO_IMAGE),
        ("让它动起来", TaskType.IMAGE_TO_VIDEO),
        ("配个音乐", TaskType.TEXT_TO_MUSIC),
    ):
        replier = RecordingReplier()
        await h.engine.handle(replace(request(text), follow_up=job.id), replier)
        assert replier.messages[0].current.stage is Stage.SUCCESS, text
        assert h.creates[-1]["task_type"] == task_type.value
    assert await same_file(h.creates[1]["src_img_url"][0], job.result_urls[0])


async def test_someone_elses_result_is_refused(h: Harness) -> None:
    image = await made(h, "draw a cat")
    [job] = await h.store.recent_jobs("test", "u1", 1)
    result, _ = await press(h, actions(image, "vary")[0], user="u2")
    assert result is ActionResult.NOT_YOURS
    replier = RecordingReplier()
    await h.engine.handle(replace(request("make it bluer", user="u2"), follow_up=job.id), replier)
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
    _, replier = await press(h, listing.buttons[1].action)
    shown = replier.last
    assert shown.stage is Stage.SUCCESS
    assert shown.media
    assert "SeeDream 4.5" in shown.text
    assert (await press(h, listing.buttons[1].action, user="u2"))[0] is ActionResult.NOT_YOURS


async def test_buttons_of_a_result_from_before_a_restart(h: Harness, tmp_path: Path) -> None:
    image = await made(h, "draw a cat")
    engine2, store2 = await make_engine(h.sim, str(h.db_path))
    replier = RecordingReplier()
    assert await engine2.handle_action("test", "u1", actions(image, "animate")[0], replier) is (
        ActionResult.DONE
    )
    assert replier.messages[0].current.stage is Stage.SUCCESS
    await engine2.client.session.close()
    await store2.close()


async def test_unknown_result_button(tmp_path: Path) -> None:
    async with await start_simulator(speed=0.001) as sim:
        engine, store = await make_engine(sim, str(tmp_path / "db"))
        result = await engine.handle_action("test", "u1", "vary:nojob:0", RecordingReplier())
        assert result is ActionResult.UNKNOWN
        await engine.client.session.close()
        await store.close()
