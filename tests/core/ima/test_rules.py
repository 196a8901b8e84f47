"""Credit-rule selection against the published vectors, plus the write-back of rule values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.ima.rules import form_defaults, normalise, quote, resolve_virtual, select_rule
from core.ima.tasks import TaskType
from tests.conftest import fixture_catalog

VECTORS: list[dict[str, Any]] = [
    v
    for v in json.loads(
        (Path(__file__).parents[2] / "data" / "rule_selection_vectors.json").read_text()
    )
    if v["task_type"] in {t.value for t in TaskType}
]


def _model(vector: dict[str, Any]):
    model = fixture_catalog(TaskType(vector["task_type"])).by_version(vector["version_id"])
    assert model is not None, vector["version_id"]
    return model


def _ids(group: str) -> list[Any]:
    return [
        pytest.param(v, id=f"{v.get('model') or v.get('model_id')}-{i}")
        for i, v in enumerate(VECTORS)
        if v["group"] == group
    ]


def test_vectors_cover_every_group() -> None:
    groups = {v["group"] for v in VECTORS}
    assert groups == {
        "virtual_param_resolution",
        "credit_rule_selection",
        "form_config_defaults",
        "full_param_merge",
    }
    assert len(VECTORS) >= 40


@pytest.mark.parametrize("vector", _ids("virtual_param_resolution"))
def test_virtual_param_resolution(vector: dict[str, Any]) -> None:
    given = vector["input"]
    resolved = resolve_virtual(_model(vector), {given["virtual_field"]: given["value"]})
    expected = vector["expected"]
    assert normalise(resolved[expected["param"]]) == normalise(expected["value"])


@pytest.mark.parametrize("vector", _ids("credit_rule_selection"))
def test_credit_rule_selection(vector: dict[str, Any]) -> None:
    rule = select_rule(_model(vector), vector["user_params"])
    assert (rule.attribute_id, rule.points) == (
        vector["expected"]["attribute_id"],
        vector["expected"]["points"],
    )


@pytest.mark.parametrize("vector", _ids("form_config_defaults"))
def test_form_config_defaults(vector: dict[str, Any]) -> None:
    model = _model(vector)
    defaults = form_defaults(model)
    for name, value in vector["expected_form_params"].items():
        assert defaults[name] == value
    q = quote(model, {})
    assert (q.rule.attribute_id, q.rule.points) == (
        vector["expected_attribute_id"],
        vector["expected_credit"],
    )


@pytest.mark.parametrize("vector", _ids("full_param_merge"))
def test_full_param_merge(vector: dict[str, Any]) -> None:
    q = quote(_model(vector), vector["extra_params"])
    for name, value in vector["expected_inner_contains"].items():
        assert q.params[name] == value


def test_rule_values_are_written_back_in_catalog_spelling() -> None:
    wan = fixture_catalog(TaskType.TEXT_TO_VIDEO).find("Wan 2.6")
    assert wan is not None
    q = quote(wan, {"duration": "10", "resolution": "1080p"}, n=2)
    assert q.params["resolution"] == "1080P"
    assert q.params["duration"] == 10
    assert q.rule.points == 80
    assert q.credits == 160


def test_normalise() -> None:
    assert normalise(True) == "true"
    assert normalise(5) == normalise("5 ") == "5"
    assert normalise("1k") == normalise("1K")


def test_unmapped_virtual_value_is_dropped_and_default_kept() -> None:
    seedream = fixture_catalog(TaskType.TEXT_TO_IMAGE).find("SeeDream 4.5")
    assert seedream is not None
    q = quote(seedream, {"aspect_ratio": "7:3"})
    assert "aspect_ratio" not in q.params
    assert q.params["size"] == "4k"
    assert "default" not in q.params
