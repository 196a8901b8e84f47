"""The shared state the passes read and fill, one message at a time.

Each pass (a function ``State -> None``) reads what earlier passes found and fills its own
fields; :meth:`State.result` turns the whole into the public :class:`ParsedMessage`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.ima.tasks import MediaKind, TaskType
from core.parse.model import (
    Command,
    Edit,
    ModelScope,
    ParsedMessage,
    Quality,
    Question,
    QuestionHint,
)
from core.parse.text import Scan


@dataclass(frozen=True, slots=True)
class Directives:
    """The model and quality the message directs (see ``directives.py``)."""

    model: str | None = None
    quality: Quality | None = None
    always: bool = False
    #: A model named after a negation ("stop using sora", "别用可灵"): never chosen.
    avoided: str | None = None
    #: Where the negation of ``avoided`` starts.
    avoided_at: int = 0
    #: ``avoided`` was set against another choice ("instead of sora"), not avoided for good.
    contrast: bool = False


@dataclass(frozen=True, slots=True)
class Sound:
    audio: bool | None = None
    vocal_gender: str | None = None
    instrumental: bool | None = None
    #: The sound of something was named ("雨声", "wave sounds"): it describes, too.
    named: bool = False


@dataclass(frozen=True, slots=True)
class Resolution:
    resolution: str | None = None
    size: str | None = None
    wants_8k: bool = False
    vector: bool = False


@dataclass(frozen=True, slots=True)
class Count:
    """The number of outputs asked for, as asked (the first explicit one)."""

    value: int | None = None
    #: What the Chinese classifier implies (张/幅 pictures, 首 songs).
    kind: MediaKind | None = None
    #: Where the count ended: a media noun right there is the output ("一张图片，…").
    end: int = -1


@dataclass(frozen=True, slots=True)
class Media:
    """What the media words say (see ``media.py``)."""

    media: MediaKind | None = None
    #: Several kinds were named and none stands out.
    conflict: bool = False
    mentions_input_image: bool = False
    edits_earlier: bool = False
    #: Both frames, or a last frame, are named: first-last-frame video whatever is attached.
    first_last: bool = False
    #: Any frame words (with two images: first-last-frame video).
    frames: bool = False
    reference: bool = False
    task_type: TaskType | None = None


@dataclass(frozen=True, slots=True)
class QuestionForm:
    """How a question is put (see ``questions.py``)."""

    #: A yes/no question that opens like a request and has a request verb ("can you draw…",
    #: "能帮我画…吗"); a wh-question (what, how much, 哪个, 多少…) never is one.
    polite: bool
    #: A yes/no question with a request's words anywhere ("could u add a seagull?", "这个
    #: video 能改成 9:16 吗"), not about what a model or a medium can do: after a result, a
    #: change asked this way is a request.
    asks_to_do: bool
    #: Only a question mark makes it one ("a cat in space?").
    mark_only: bool
    #: Something to make is described, beyond what a question may ask about ("can you draw
    #: a cat?" has one, "能写歌词吗" and "can you make anime videos?" have none).
    subject: bool


@dataclass(slots=True)
class State:
    """One message being read."""

    text: str
    image_count: int
    model_names: tuple[str, ...]
    scan: Scan = field(default_factory=lambda: Scan(""))
    #: Pictures that came with the message, attached or linked.
    images: int = 0
    image_urls: tuple[str, ...] = ()
    #: Set by a pass that has read the whole message (a reply like "好的"): later passes are
    #: skipped.
    finished: bool = False
    command: Command | None = None
    lyrics: str | None = None
    negative_prompt: str | None = None
    seed: int | None = None
    #: The message starts with Midjourney's "/imagine": a picture.
    midjourney: bool = False
    directives: Directives = Directives()
    another_model: bool = False
    retry: bool = False
    #: The retry was only "again"/"one more", words that may be description too.
    retry_weak: bool = False
    premium_requested: bool = False
    insisted: bool = False
    sound: Sound = Sound()
    resolution: Resolution = Resolution()
    aspect_ratio: str | None = None
    custom_ratio: str | None = None
    count: Count = Count()
    media: Media = Media()
    #: Seconds of video or music, whichever the media is.
    duration: int | None = None
    #: Whether anything but frames, media words and fillers was said.
    described: bool = False
    #: What the message would ask if it is a question (see ``questions.py``).
    question: Question | None = None
    question_form: QuestionForm | None = None
    #: How the message would change the last result if it is an edit (see ``edits.py``).
    edit: Edit | None = None
    prompt: str = ""
    question_hint: QuestionHint | None = None
    unsure: bool = False

    @property
    def has_parameters(self) -> bool:
        return self.has_settings or self.count.value is not None

    @property
    def has_settings(self) -> bool:
        """A parameter other than a count ("一个视频" says only how many)."""
        res = self.resolution
        return (
            res.wants_8k
            or res.vector
            or any(
                v is not None
                for v in (
                    self.duration,
                    res.resolution,
                    res.size,
                    self.aspect_ratio,
                    self.custom_ratio,
                    self.seed,
                    self.negative_prompt,
                )
            )
        )

    def result(self) -> ParsedMessage:
        command = self.command or Command.NONE
        if self.finished or command in (Command.NONE, Command.CHAT):
            return ParsedMessage(command=command)
        d = self.directives
        is_music = self.media.media is MediaKind.MUSIC
        scope = None
        if d.model is not None or d.quality is not None:
            scope = ModelScope.ALWAYS if d.always else ModelScope.THIS_TIME
        count = self.count.value
        generate = command is Command.GENERATE
        return ParsedMessage(
            command=command,
            prompt=self.prompt if command in (Command.GENERATE, Command.EDIT) else "",
            media=self.media.media,
            task_type=self.media.task_type,
            model=d.avoided if command is Command.AVOID_MODEL else d.model,
            model_scope=scope,
            avoided=d.avoided if generate else None,
            quality=d.quality,
            another_model=self.another_model,
            premium_requested=self.premium_requested,
            insisted=self.insisted,
            mentions_input_image=self.media.mentions_input_image,
            duration=None if is_music else self.duration,
            resolution=self.resolution.resolution,
            aspect_ratio=self.aspect_ratio,
            custom_ratio=self.custom_ratio,
            size=self.resolution.size,
            wants_8k=self.resolution.wants_8k,
            vector=self.resolution.vector,
            count=count if count is not None and count <= 4 else None,
            count_requested=count,
            lyrics=self.lyrics,
            vocal_gender=self.sound.vocal_gender,
            instrumental=self.sound.instrumental,
            audio=self.sound.audio,
            music_duration=self.duration if is_music else None,
            negative_prompt=self.negative_prompt,
            seed=self.seed,
            ambiguous=generate and self.question_hint is not None,
            question_hint=self.question_hint if generate else None,
            unsure=generate and self.unsure,
            question=self.question if command is Command.QUESTION else None,
            edit=self.edit if command is Command.EDIT else None,
            image_urls=self.image_urls,
        )
