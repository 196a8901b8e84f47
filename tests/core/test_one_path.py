"""Seams that decided one fact in two places (engine level), each failing before the
restructure into one planning path."""

from __future__ import annotations

import asyncio

from core.actions import Verb
from core.ima.tasks import TaskType
from core.replier import Stage
from core.store import Preference
from tests.core.harness import Harness, actions
from tests.recording import RecordingReplier


async def test_a_saved_default_survives_a_version_bump_everywhere(h: Harness) -> None:
    """IMA bumps a model's version: the saved default is still used — in new messages, in a
    result's buttons and in replies to a result (all take the model id when the version is
    gone)."""
    stale = Preference("kling-video-o1", "kling-video-o1-old", "Kling O1", 48, 0.0)
    await h.store.set_preference("test", "u1", TaskType.IMAGE_TO_VIDEO, stale)
    await h.store.set_preference("test", "u1", TaskType.TEXT_TO_VIDEO, stale)
    picture = (await h.say("draw a red fox")).messages[0].current
    _, animated = await h.press(actions(picture, Verb.ANIMATE)[0])
    assert animated.messages[0].current.stage is Stage.SUCCESS
    assert h.creates[-1]["parameters"][0]["model_id"] == "kling-video-o1"
    [fox] = [
        j for j in await h.store.recent_jobs("test", "u1") if j.task_type is TaskType.TEXT_TO_IMAGE
    ]
    assert fox.handle is not None
    await h.say("make it move", reply_to=fox.handle.message_id)
    assert h.creates[-1]["task_type"] == "image_to_video"
    assert h.creates[-1]["parameters"][0]["model_id"] == "kling-video-o1"
    await h.say("a video of rain")
    assert h.creates[-1]["parameters"][0]["model_id"] == "kling-video-o1"


async def test_commands_that_need_nothing_from_ima_answer_while_it_is_down(h: Harness) -> None:
    await h.say("draw a cat")  # a result for the history, and a preference
    h.bot.client._catalogs.clear()  # nothing cached: every catalog must be asked for
    h.sim.state.faults.push("product_list", "503", times=1000)
    for text, expected in (
        ("help", "I can create pictures"),
        ("my history", "Your recent creations"),
        ("my preferences", "Your default models"),
        ("yes", "OK!"),  # nothing waits for an answer: fine
        ("reset my preferences", "cleared"),
    ):
        replier = await h.say(text)
        assert expected in replier.last.text, (text, replier.last.text)
    assert "temporarily unavailable" in (await h.say("draw a dog")).last.text


async def test_quick_messages_are_understood_in_the_order_sent(h: Harness) -> None:
    """ "always use X" then "draw a cat" a moment later: the cat is drawn with X."""
    first, second = RecordingReplier(), RecordingReplier()
    await asyncio.gather(
        h.say("always use Nano Banana Pro", replier=first, wait=False),
        h.say("draw a cat", replier=second, wait=False),
    )
    await h.engine.drain()
    assert h.creates[-1]["parameters"][0]["model_name"] == "Nano Banana Pro"
