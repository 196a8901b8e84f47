"""Every task type and medium has its row in every table and its sentence in every locale.

Adding a task type (or a medium) without filling in everything it needs fails here, naming it.
"""

from __future__ import annotations

import pytest

from core.i18n import Translator
from core.ima import models
from core.ima.models import KNOWN, alias_targets, name_key
from core.ima.tasks import MEDIA, TASKS, MediaKind, TaskType, task_for
from tests.conftest import FIXTURES, fixture_catalog

translator = Translator.load()

#: Sentences every task type needs, in both languages.
TASK_KEYS = ("kind.{}",)
#: Sentences every medium needs, in both languages.
MEDIA_KEYS = (
    "media.{}",
    "before.{}",
    "success.{}",
    "failure.{}",
    "history.{}",
    "discord.choice.{}",
)


@pytest.mark.parametrize("task_type", list(TaskType))
def test_every_task_type_has_its_record(task_type: TaskType) -> None:
    spec = TASKS[task_type]
    assert spec.task_type is task_type
    assert spec.media in MEDIA
    assert spec.min_images >= 0
    assert spec.max_images is None or spec.max_images >= spec.min_images
    assert spec.max_outputs >= 1
    assert spec.fallbacks, f"{task_type}: no fallback models"
    assert (FIXTURES / f"product_list.{task_type.value}.json").exists()


@pytest.mark.parametrize("task_type", list(TaskType))
def test_a_task_types_named_models_exist_in_its_catalog(task_type: TaskType) -> None:
    catalog = fixture_catalog(task_type)
    assert catalog.find(task_type.spec.recommended) is not None, task_type
    keys = {name_key(m.name) for m in catalog.models}
    for fallback in task_type.spec.fallbacks:
        assert any(k.startswith(fallback) for k in keys), (task_type, fallback)


@pytest.mark.parametrize("media", list(MediaKind))
def test_every_medium_has_its_record(media: MediaKind) -> None:
    spec = MEDIA[media]
    assert spec.kind is media
    assert spec.extension.isalnum()
    assert 0 < spec.timing.estimate_low <= spec.timing.estimate_high < spec.timing.max_wait
    assert any(t.media is media for t in TASKS.values()), f"{media}: no task makes it"


@pytest.mark.parametrize("locale", ["en", "zh"])
def test_every_member_has_its_sentences(locale: str) -> None:
    catalog = translator.catalogs[locale]
    wanted = [k.format(t.value) for t in TaskType for k in TASK_KEYS]
    wanted += [k.format(m.value) for m in MediaKind for k in MEDIA_KEYS]
    missing = [key for key in wanted if key not in catalog]
    assert missing == []


def test_known_models_are_well_formed() -> None:
    keys = [k.key for k in KNOWN]
    assert len(keys) == len(set(keys)), "a model has two rows"
    for row in KNOWN:
        assert row.key == name_key(row.key)
        for task_type in row.fallbacks:
            if isinstance(task_type, TaskType):
                assert task_type.media is row.media, row.key
        ranks = [k.rank for k in KNOWN if k.media is row.media and k.rank is not None]
        assert len(ranks) == len(set(ranks)), f"two {row.media} models share a rank"


@pytest.mark.parametrize("task_type", list(TaskType))
def test_every_catalog_model_gets_a_timing_and_every_alias_finds_a_model(
    task_type: TaskType,
) -> None:
    catalog = fixture_catalog(task_type)
    for model in catalog.models:
        timing = models.timing(model.name, task_type)
        assert timing.progress_every >= task_type.spec.min_progress_every
    for row in KNOWN:
        if row.media is not task_type.media:
            continue
        for alias in row.aliases:
            targets = alias_targets(alias)
            assert row in targets
            present = [
                t for t in targets if any(t.matches(name_key(m.name)) for m in catalog.models)
            ]
            if present:
                assert catalog.find(alias) is not None, (task_type, alias)


@pytest.mark.parametrize(
    ("media", "images", "asked", "expected"),
    [
        (MediaKind.IMAGE, 0, None, TaskType.TEXT_TO_IMAGE),
        (MediaKind.IMAGE, 1, None, TaskType.IMAGE_TO_IMAGE),
        (MediaKind.IMAGE, 3, None, TaskType.IMAGE_TO_IMAGE),  # it will ask for one
        (MediaKind.VIDEO, 0, None, TaskType.TEXT_TO_VIDEO),
        (MediaKind.VIDEO, 1, None, TaskType.IMAGE_TO_VIDEO),
        (MediaKind.VIDEO, 2, None, TaskType.REFERENCE_IMAGE_TO_VIDEO),
        (
            MediaKind.VIDEO,
            2,
            TaskType.FIRST_LAST_FRAME_TO_VIDEO,
            TaskType.FIRST_LAST_FRAME_TO_VIDEO,
        ),
        (MediaKind.VIDEO, 1, TaskType.REFERENCE_IMAGE_TO_VIDEO, TaskType.REFERENCE_IMAGE_TO_VIDEO),
        (MediaKind.MUSIC, 0, None, TaskType.TEXT_TO_MUSIC),
        (MediaKind.MUSIC, 1, None, TaskType.TEXT_TO_MUSIC),  # a song for a picture: from words
    ],
)
def test_the_task_for_a_medium_and_its_pictures(
    media: MediaKind, images: int, asked: TaskType | None, expected: TaskType
) -> None:
    assert task_for(media, images, asked=asked) is expected
