"""What a request asks of a model: mapped onto each model's fields, or the spec's advice."""

from __future__ import annotations

import pytest

from core.ima.tasks import TaskType
from core.wants import Message, Refused, Wants, map_wants
from tests.conftest import fixture_catalog

T2V = fixture_catalog(TaskType.TEXT_TO_VIDEO)
MUSIC = fixture_catalog(TaskType.TEXT_TO_MUSIC)


def refusal(wants: Wants, name: str, task_type: TaskType = TaskType.TEXT_TO_VIDEO) -> Message:
    catalog = fixture_catalog(task_type)
    found = catalog.find(name)
    assert found is not None
    with pytest.raises(Refused) as caught:
        map_wants(found, wants, catalog)
    return caught.value.message


def test_json_roundtrip_drops_what_was_not_asked() -> None:
    wants = Wants(duration=10, lyrics=None, wants_8k=False)
    assert wants.to_json() == {"duration": 10}
    silent = Wants(audio=False)  # "no sound" is a wish: a retry must not add sound
    assert silent.to_json() == {"audio": False}
    assert Wants.from_json(silent.to_json()) == silent
    assert Wants.from_json({"duration": 10, "unknown": 1}) == Wants(duration=10)


@pytest.mark.parametrize(("count", "most", "n"), [(None, 4, 1), (3, 4, 3), (9, 4, 4), (3, 2, 2)])
def test_outputs_within_what_the_task_allows(count: int | None, most: int, n: int) -> None:
    assert Wants(count=count).outputs(most) == n


def test_duration_and_resolution_in_the_models_spelling() -> None:
    wan = T2V.find("Wan 2.6")
    assert wan is not None
    mapped = map_wants(wan, Wants(duration=10, resolution="1080p"), T2V)
    assert str(mapped.params["duration"]) == "10"
    assert str(mapped.params["resolution"]).upper() == "1080P"
    assert mapped.notes == ()


def test_a_resolution_not_offered_takes_the_closest_and_says_so() -> None:
    wan = T2V.find("Wan 2.6")
    assert wan is not None
    mapped = map_wants(wan, Wants(resolution="4K"), T2V)
    assert [n.key for n in mapped.notes] == ["advice.resolution"]


def test_a_resolution_insisted_on_is_refused_with_what_there_is() -> None:
    message = refusal(Wants(resolution="4K", strict=True), "Wan 2.6")
    assert message.key == "advice.size_none"  # no video model makes 4K
    assert message.values["options"] == "720P/1080P"


def test_a_picture_size_insisted_on_names_the_models_that_offer_it() -> None:
    message = refusal(Wants(size="4K", strict=True), "Midjourney", TaskType.TEXT_TO_IMAGE)
    assert message.key == "advice.size_elsewhere"
    assert "SeeDream 4.5" in message.values["models"]


def test_a_duration_no_model_makes_names_the_longest() -> None:
    message = refusal(Wants(duration=60), "Wan 2.6")
    assert message.key == "advice.duration_none"
    assert message.values["max"] == 15


def test_a_duration_another_model_makes_names_it() -> None:
    message = refusal(Wants(duration=15), "Kling O1")
    assert message.key == "advice.duration"
    assert "Wan 2.6" in message.values["models"]


def test_8k_and_music_length_are_refused_with_advice() -> None:
    assert refusal(Wants(wants_8k=True), "SeeDream 4.5", TaskType.TEXT_TO_IMAGE).key == (
        "advice.no_8k"
    )
    assert refusal(Wants(music_duration=180), "Suno", TaskType.TEXT_TO_MUSIC).key == (
        "advice.music_length"
    )


def test_sound_on_a_silent_model_names_the_ones_with_sound() -> None:
    message = refusal(Wants(audio=True), "Hailuo 2.3")
    assert message.key == "advice.audio"
    assert message.values["models"]


def test_too_many_outputs_are_made_as_many_as_allowed_with_a_note() -> None:
    suno = MUSIC.find("Suno")
    assert suno is not None
    mapped = map_wants(suno, Wants(count=3), MUSIC)
    assert [(n.key, n.values["max"]) for n in mapped.notes] == [("advice.count", 2)]


def test_music_wishes_reach_the_fields_the_model_has() -> None:
    suno = MUSIC.find("Suno")
    assert suno is not None
    mapped = map_wants(
        suno, Wants(lyrics="la la", instrumental=False, vocal_gender="female"), MUSIC
    )
    assert mapped.params["custom_mode"] is True
    assert mapped.params["lyrics"] == "la la"


def test_a_ratio_names_the_models_that_offer_it_and_never_invents_one() -> None:
    elsewhere = refusal(Wants(aspect_ratio="4:5"), "SeeDream 4.5", TaskType.TEXT_TO_IMAGE)
    assert elsewhere.key == "advice.ratio_elsewhere"
    assert "Nano Banana Pro" in elsewhere.values["models"]
    none = refusal(Wants(aspect_ratio="7:3"), "SeeDream 4.5", TaskType.TEXT_TO_IMAGE)
    assert none.key == "advice.ratio_none"
    assert none.tail is not None  # pictures get the take-a-frame tip
    video = refusal(Wants(aspect_ratio="7:3"), "Wan 2.6")
    assert video.key == "advice.ratio_none"
    assert video.tail is None  # no picture advice for a video
