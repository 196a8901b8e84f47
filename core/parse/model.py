"""What the parser returns: the command and every field a message can fill."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.ima.tasks import MediaKind, TaskType


class Command(StrEnum):
    """The main action a message asks for."""

    GENERATE = "generate"
    USE_MODEL = "use_model"
    ALWAYS_MODEL = "always_model"
    ANOTHER_MODEL = "another_model"
    BEST = "best"
    CHEAPEST = "cheapest"
    RESET = "reset"
    SHOW_PREFS = "show_prefs"
    CONFIRM_YES = "confirm_yes"
    CONFIRM_NO = "confirm_no"
    HELP = "help"
    #: "再来一次 / 重新生成 / again / regenerate" with nothing else: redo the last request.
    RETRY = "retry"
    #: "我的作品 / 历史记录 / my history / my creations" alone: list the person's recent results.
    HISTORY = "history"
    NONE = "none"


class ModelScope(StrEnum):
    THIS_TIME = "this_time"
    ALWAYS = "always"


class Quality(StrEnum):
    BEST = "best"
    CHEAPEST = "cheapest"


class QuestionHint(StrEnum):
    """What to ask when a generation request is ambiguous."""

    #: Image, video or music?
    MEDIA = "media"
    #: The text edits an earlier result or image, but none is attached: which one?
    SOURCE = "source"


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """What one message says. Every field but ``command`` is optional; see the module doc."""

    command: Command
    #: The description for the generator; "" when nothing was described or not GENERATE.
    prompt: str = ""
    #: The kind of output named by the words (not by the model name).
    media: MediaKind | None = None
    #: The task the words and attachments ask for; None when the media is unknown.
    task_type: TaskType | None = None
    #: The entry of ``model_names`` that was named, exactly as given.
    model: str | None = None
    #: Set with ``model`` or ``quality``: only this time, or remember as the default.
    model_scope: ModelScope | None = None
    quality: Quality | None = None
    #: "换个模型 / another model" was said (the command when nothing else is asked).
    another_model: bool = False
    #: The user explicitly asked for high-end quality (also true with ``Quality.BEST``).
    premium_requested: bool = False
    #: The text points at an input/earlier image (这张图, this photo, 首尾帧, make it …).
    mentions_input_image: bool = False
    #: Video length in seconds (also set when the media is unknown).
    duration: int | None = None
    #: "480P" / "540P" / "720P" / "768P" / "1080P" / "2K" / "4K".
    resolution: str | None = None
    #: One of 16:9, 9:16, 1:1, 4:3, 3:4, 21:9.
    aspect_ratio: str | None = None
    #: Any other W:H ratio, reduced (e.g. "7:3", "4:5").
    custom_ratio: str | None = None
    #: Image size: "512px" / "1K" / "2K" / "4K".
    size: str | None = None
    wants_8k: bool = False
    #: Outputs asked for, when 1..4.
    count: int | None = None
    #: Outputs asked for, as asked (may exceed 4).
    count_requested: int | None = None
    lyrics: str | None = None
    #: "male" / "female".
    vocal_gender: str | None = None
    instrumental: bool | None = None
    #: Video with sound (True), explicitly silent (False), not said (None).
    audio: bool | None = None
    #: Music length in seconds (not settable; the engine explains).
    music_duration: int | None = None
    negative_prompt: str | None = None
    seed: int | None = None
    ambiguous: bool = False
    question_hint: QuestionHint | None = None
