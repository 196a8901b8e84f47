"""The spec's recommended default model per task type (used when the user has no preference)."""

from core.ima.tasks import TaskType

RECOMMENDED: dict[TaskType, str] = {
    TaskType.TEXT_TO_IMAGE: "doubao-seedream-4.5",
    TaskType.IMAGE_TO_IMAGE: "doubao-seedream-4.5",
    TaskType.TEXT_TO_VIDEO: "wan2.6-t2v",
    TaskType.IMAGE_TO_VIDEO: "wan2.6-i2v",
    TaskType.FIRST_LAST_FRAME_TO_VIDEO: "kling-video-o1",
    TaskType.REFERENCE_IMAGE_TO_VIDEO: "kling-video-o1",
    TaskType.TEXT_TO_MUSIC: "sonic",
}
