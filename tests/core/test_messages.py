"""The sentences of the four steps and their buttons, in both languages."""

from __future__ import annotations

import pytest

from core.actions import MAX_BYTES, Verb, decode
from core.i18n import Translator
from core.ima.tasks import TaskType
from core.jobs import Job, ModelSource
from core.messages import Messages, Offer, progress_percent
from core.replier import Stage
from core.wants import Message
from tests.conftest import fixture_catalog

say = Messages(Translator.load())


def job(task_type: TaskType = TaskType.TEXT_TO_IMAGE, **changes: object) -> Job:
    values: dict[str, object] = dict(
        id="job123", platform="test", user_id="u1", chat_id="c", locale="en",
        task_type=task_type, version_id="v", model_id="m", model_name="SeeDream 4.5",
        prompt="a cat", params={}, n=1, credits=5, source=ModelSource.DEFAULT,
        reply_target={}, result_urls=("https://r/1.png",),
    )  # fmt: skip
    values.update(changes)
    return Job(**values)  # type: ignore[arg-type]


def verbs(buttons: tuple[object, ...] | list[object]) -> list[Verb]:
    return [decode(b.action).verb for b in buttons]  # type: ignore[attr-defined, union-attr]


@pytest.mark.parametrize(
    ("elapsed", "high", "percent"), [(0, 60, 0), (30, 60, 50), (59, 60, 95), (500, 60, 95)]
)
def test_progress_follows_the_spec_formula(elapsed: float, high: float, percent: int) -> None:
    assert progress_percent(elapsed, high) == percent


def test_progress_past_the_estimate_says_almost_there() -> None:
    reply = say.progress(job(), elapsed=90, estimate=(20, 60))
    assert reply.stage is Stage.PROGRESS
    assert "95%" in reply.text
    assert "Almost there" in reply.text


def test_before_names_model_time_credits_and_the_usual_choice() -> None:
    usual = say.before(job(source=ModelSource.PREFERENCE, locale="zh"), estimate=(20, 20), each=5)
    assert "根据你的使用习惯" in usual.text
    assert "20" in usual.text
    several = say.before(job(n=3, credits=15), estimate=(20, 60), each=5)
    assert "15 pts (5 × 3)" in several.text
    video = job(TaskType.TEXT_TO_VIDEO, model_name="Kling O1", credits=120)
    wan = fixture_catalog(TaskType.TEXT_TO_VIDEO).find("Wan 2.6")
    assert wan is not None
    cheaper = say.before(video, estimate=(180, 360), each=120, cheaper=Offer(wan, 25))
    assert "Wan 2.6 costs 25 pts" in cheaper.text
    assert "keep you posted" in cheaper.text
    best = say.before(job(source=ModelSource.BEST), estimate=(1, 2), each=5)
    assert "premium" in best.text


def test_success_has_the_media_and_what_to_do_next() -> None:
    picture = say.success(
        job(result_urls=("u1", "u2")),
        estimate=(20, 60),
        actual=31,
        media=[("u1", None), ("u2", None)],
    )
    assert [m.filename for m in picture.media] == ["image-job123-1.png", "image-job123-2.png"]
    assert verbs(picture.buttons).count(Verb.VARY) == 2
    assert Verb.SOUNDTRACK in verbs(picture.buttons)
    song = say.success(job(TaskType.TEXT_TO_MUSIC), estimate=(1, 2), actual=1, media=[("u", None)])
    assert song.buttons == ()
    assert song.media[0].filename.endswith(".mp3")


def test_failure_offers_alternatives_and_retries() -> None:
    catalog = fixture_catalog(TaskType.TEXT_TO_IMAGE)
    banana = catalog.find("Nano Banana 2")
    assert banana is not None
    reply = say.failure(
        job(), reason_key="error.timeout", offers=[Offer(banana, 6, "budget")], retry_same=True
    )
    assert "took too long" in reply.text
    assert "Nano Banana 2 (6 pts, budget)" in reply.text
    first, same = (decode(b.action) for b in reply.buttons)
    assert first is not None
    assert same is not None
    assert (first.verb, first.model is not None) == (Verb.RETRY, True)
    assert (same.verb, same.model) == (Verb.RETRY, None)


def test_money_failures_offer_nothing_that_could_charge_twice() -> None:
    maybe = say.maybe_made(job(), "error.network")
    assert maybe.buttons == ()
    assert "may have been made" in maybe.text
    assert say.maybe_made(job()).buttons == ()
    raised = say.price_changed(job(credits=5), 100)
    assert "from 5 to 100" in raised.text
    assert verbs(raised.buttons) == [Verb.RETRY]
    assert "100" in raised.buttons[0].label


def test_every_button_fits_every_platform() -> None:
    long_id = job(id="x" * 24, result_urls=tuple(f"u{i}" for i in range(4)))
    catalog = fixture_catalog(TaskType.TEXT_TO_IMAGE)
    media = [(u, None) for u in long_id.result_urls]
    replies = [
        say.success(long_id, estimate=(1, 2), actual=1, media=media),
        say.failure(long_id, reason_key="error.unknown",
                    offers=[Offer(m, 1) for m in catalog.models], retry_same=True),
        say.history("en", [long_id]),
    ]  # fmt: skip
    for reply in replies:
        for button in reply.buttons:
            assert len(button.action.encode()) <= MAX_BYTES
            assert decode(button.action) is not None


def test_messages_inside_messages_are_worded_in_the_same_language() -> None:
    message = Message("pref.reset_one", {"kind": Message("media.video")})
    assert "视频" in say.text("zh", message)
    assert "video" in say.text("en", message)
