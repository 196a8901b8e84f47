"""The seven task types the bot offers and the kind of media each produces."""

from enum import StrEnum


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    MUSIC = "music"


class TaskType(StrEnum):
    """IMA task types; the value is also the product-list ``category``."""

    TEXT_TO_IMAGE = "text_to_image"
    IMAGE_TO_IMAGE = "image_to_image"
    TEXT_TO_VIDEO = "text_to_video"
    IMAGE_TO_VIDEO = "image_to_video"
    FIRST_LAST_FRAME_TO_VIDEO = "first_last_frame_to_video"
    REFERENCE_IMAGE_TO_VIDEO = "reference_image_to_video"
    TEXT_TO_MUSIC = "text_to_music"

    @property
    def media(self) -> MediaKind:
        if self in (TaskType.TEXT_TO_IMAGE, TaskType.IMAGE_TO_IMAGE):
            return MediaKind.IMAGE
        if self is TaskType.TEXT_TO_MUSIC:
            return MediaKind.MUSIC
        return MediaKind.VIDEO

    @property
    def image_range(self) -> tuple[int, int | None]:
        """How many input images the task takes: (minimum, maximum or None for no maximum)."""
        return _IMAGE_RANGE[self]


_IMAGE_RANGE: dict[TaskType, tuple[int, int | None]] = {
    TaskType.TEXT_TO_IMAGE: (0, 0),
    TaskType.IMAGE_TO_IMAGE: (1, None),
    TaskType.TEXT_TO_VIDEO: (0, 0),
    TaskType.IMAGE_TO_VIDEO: (1, 1),
    TaskType.FIRST_LAST_FRAME_TO_VIDEO: (2, 2),
    TaskType.REFERENCE_IMAGE_TO_VIDEO: (1, None),
    TaskType.TEXT_TO_MUSIC: (0, 0),
}
