"""The seven task types ``/tasks/create`` accepts, with their media and input-image counts."""

from dataclasses import dataclass
from enum import StrEnum


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    MUSIC = "music"


@dataclass(frozen=True)
class TaskTypeSpec:
    media: MediaKind
    min_images: int
    max_images: int | None
    """None: no upper limit."""


TASK_TYPES: dict[str, TaskTypeSpec] = {
    "text_to_image": TaskTypeSpec(MediaKind.IMAGE, 0, 0),
    "image_to_image": TaskTypeSpec(MediaKind.IMAGE, 1, None),
    "text_to_video": TaskTypeSpec(MediaKind.VIDEO, 0, 0),
    "image_to_video": TaskTypeSpec(MediaKind.VIDEO, 1, None),
    "first_last_frame_to_video": TaskTypeSpec(MediaKind.VIDEO, 2, 2),
    "reference_image_to_video": TaskTypeSpec(MediaKind.VIDEO, 1, None),
    "text_to_music": TaskTypeSpec(MediaKind.MUSIC, 0, 0),
}
"""The product list also serves categories outside this table (text_to_speech)."""
