"""Best, cheapest, recommended, fallback and cheaper models, in the live catalog only."""

from __future__ import annotations

from dataclasses import replace

from core import choice
from core.ima.catalog import Catalog, Model
from core.ima.rules import quote
from core.ima.tasks import TaskType
from tests.conftest import fixture_catalog


def names(models: list[Model]) -> list[str]:
    return [m.name for m in models]


def test_recommended_best_and_cheapest_per_task_type() -> None:
    expected = {
        TaskType.TEXT_TO_IMAGE: ("SeeDream 4.5", "Nano Banana Pro"),
        TaskType.TEXT_TO_VIDEO: ("Wan 2.6", "Kling O1"),
        TaskType.FIRST_LAST_FRAME_TO_VIDEO: ("Kling O1", "Kling O1"),
        TaskType.TEXT_TO_MUSIC: ("Suno", "Suno"),
    }
    for task_type, (recommended, best) in expected.items():
        catalog = fixture_catalog(task_type)
        assert choice.recommended(catalog).name == recommended  # type: ignore[union-attr]
        assert choice.best(catalog).name == best  # type: ignore[union-attr]
        cheapest = choice.cheapest(catalog)
        assert cheapest is not None
        # the price it would be used at (its form's defaults), not its lowest rule
        price = quote(cheapest, {}).credits
        assert price == min(quote(m, {}).credits for m in catalog.models)


def test_cheapest_is_the_price_shown_not_the_lowest_rule() -> None:
    """Nano Banana 2 has a 4-credit rule (512px) but makes 1K pictures for 6 by default;
    SeeDream 4.5 makes them for 5."""
    catalog = fixture_catalog(TaskType.TEXT_TO_IMAGE)
    assert choice.cheapest(catalog).name == "SeeDream 4.5"  # type: ignore[union-attr]


def test_a_model_gone_from_the_catalog_is_never_chosen() -> None:
    full = fixture_catalog(TaskType.TEXT_TO_IMAGE)
    without = Catalog(full.task_type, tuple(m for m in full.models if m.name != "Nano Banana Pro"))
    assert choice.best(without).name == "SeeDream 4.5"  # type: ignore[union-attr]
    gone = Catalog(full.task_type, tuple(m for m in full.models if m.name != "SeeDream 4.5"))
    assert choice.recommended(gone) == gone.models[0]


def test_alternatives_follow_the_spec_table_then_popular_ones() -> None:
    video = fixture_catalog(TaskType.TEXT_TO_VIDEO)
    kling = video.find("Kling O1")
    veo = video.find("Google Veo 3.1")
    hailuo = video.find("Hailuo 2.3")
    assert kling is not None
    assert veo is not None
    assert hailuo is not None
    assert names(choice.alternatives(video, kling)) == ["Wan 2.6", "Vidu Q2"]
    assert names(choice.alternatives(video, veo)) == ["Kling O1", "Sora 2 Pro"]
    assert names(choice.alternatives(video, hailuo)) == ["Wan 2.6", "Hailuo 2.0"]  # any row
    image = fixture_catalog(TaskType.TEXT_TO_IMAGE)
    seedream = image.find("SeeDream 4.5")
    assert seedream is not None
    assert names(choice.alternatives(image, seedream)) == ["Nano Banana 2", "Nano Banana Pro"]
    assert seedream not in choice.alternatives(image, seedream, count=10)


def test_cheaper_than_prefers_the_recommended_model() -> None:
    video = fixture_catalog(TaskType.TEXT_TO_VIDEO)
    kling = video.find("Kling O1")
    assert kling is not None
    offer = choice.cheaper_than(video, quote(kling, {}), {})
    assert offer is not None
    assert offer[0].name == "Wan 2.6"
    lowest = min((quote(m, {}) for m in video.models), key=lambda q: q.credits)
    assert choice.cheaper_than(video, lowest, {}) is None


def test_tags() -> None:
    image = fixture_catalog(TaskType.TEXT_TO_IMAGE)
    by_name = {m.name: m for m in image.models}
    # SeeDream 4.5 is the default and, at 5 credits as used, also the cheapest
    assert choice.tag(image, by_name["SeeDream 4.5"]) == "budget"
    assert choice.tag(image, by_name["Nano Banana 2"]) is None
    assert choice.tag(image, by_name["Nano Banana Pro"]) == "premium"
    video = fixture_catalog(TaskType.TEXT_TO_VIDEO)
    assert choice.tag(video, choice.recommended(video)) == "popular"  # type: ignore[arg-type]
    assert choice.tag(image, replace(by_name["Midjourney"], version_id="x")) is None
