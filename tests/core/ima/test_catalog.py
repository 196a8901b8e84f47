"""Parsing the product-list tree and finding models the way people name them."""

from __future__ import annotations

import pytest

from core.ima.catalog import Catalog, parse_product_list
from core.ima.tasks import TaskType
from tests.conftest import fixture_catalog


@pytest.mark.parametrize(
    ("task_type", "query", "version_id"),
    [
        (TaskType.TEXT_TO_IMAGE, "Nano Banana Pro", "gemini-3-pro-image-preview"),
        (TaskType.TEXT_TO_IMAGE, "nano-banana-2", "gemini-3.1-flash-image-preview"),
        (TaskType.TEXT_TO_IMAGE, "Nano Banana2", "gemini-3.1-flash-image-preview"),
        (TaskType.TEXT_TO_IMAGE, "SeeDream 4.5", "doubao-seedream-4-5-251128"),
        (TaskType.TEXT_TO_IMAGE, "doubao-seedream-4.5", "doubao-seedream-4-5-251128"),
        (TaskType.TEXT_TO_IMAGE, "seedream", "doubao-seedream-4-5-251128"),
        (TaskType.TEXT_TO_VIDEO, "Wan 2.6", "wan2.6-t2v"),
        (TaskType.IMAGE_TO_VIDEO, "wan", "wan2.6-i2v"),
        (TaskType.TEXT_TO_VIDEO, "Kling O1", "kling-video-o1"),
        (TaskType.TEXT_TO_VIDEO, "可灵", "kling-video-o1"),
        (TaskType.TEXT_TO_VIDEO, "kling 2.6", "kling-v2-6"),
        (TaskType.TEXT_TO_VIDEO, "Hailuo", "MiniMax-Hailuo-2.3"),
        (TaskType.TEXT_TO_VIDEO, "海螺", "MiniMax-Hailuo-2.3"),
        (TaskType.FIRST_LAST_FRAME_TO_VIDEO, "海螺", "MiniMax-Hailuo-02"),
        (TaskType.TEXT_TO_VIDEO, "Veo 3.1", "veo-3.1-generate-preview"),
        (TaskType.TEXT_TO_VIDEO, "Pixverse", "Pixverse V5.5"),
        (TaskType.TEXT_TO_VIDEO, "Pixverse V4.5", "Pixverse V4.5"),
        (TaskType.TEXT_TO_VIDEO, "sora", "sora-2-pro"),
        (TaskType.TEXT_TO_MUSIC, "Suno", "sonic"),
        (TaskType.TEXT_TO_MUSIC, "DouBao BGM", "GenBGM"),
    ],
)
def test_find(task_type: TaskType, query: str, version_id: str) -> None:
    model = fixture_catalog(task_type).find(query)
    assert model is not None
    assert model.version_id == version_id


@pytest.mark.parametrize("query", ["", "x", "gpt image", "Suno"])
def test_find_nothing(query: str) -> None:
    assert fixture_catalog(TaskType.TEXT_TO_IMAGE).find(query) is None


def test_leaves_at_any_depth_and_malformed_ones_skipped() -> None:
    leaf = {
        "id": "v1",
        "type": "3",
        "model_id": "m",
        "name": "Deep Model",
        "credit_rules": [{"attribute_id": 7, "points": 3, "attributes": {"default": "enabled"}}],
        "form_config": [],
        "tags": [{"tag_type": "EET", "tag_value": "10~20s"}],
    }
    tree = [
        {"type": "2", "name": "A", "children": [{"type": "2", "name": "B", "children": [leaf]}]},
        {"type": "3", "id": "broken"},  # no rules: never offered
        "garbage",
    ]
    models = parse_product_list(TaskType.TEXT_TO_IMAGE, tree)
    assert [m.version_id for m in models] == ["v1"]
    assert models[0].eet == (10, 20)
    assert models[0].group == "B"
    assert Catalog(TaskType.TEXT_TO_IMAGE, models).find("deep model") is models[0]


def test_fixture_catalogs_parse_completely() -> None:
    counts = {t: len(fixture_catalog(t).models) for t in TaskType}
    assert counts[TaskType.TEXT_TO_IMAGE] == 4
    assert counts[TaskType.TEXT_TO_VIDEO] == 16
    assert counts[TaskType.TEXT_TO_MUSIC] == 3


def test_surface_names_include_aliases_only_for_present_models() -> None:
    names = fixture_catalog(TaskType.TEXT_TO_MUSIC).surface_names()
    assert "Suno" in names
    assert "豆包音乐" in names
    assert "suno" not in names  # the same name as "Suno" once case is ignored
    assert "可灵" not in names
