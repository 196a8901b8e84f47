"""What the parser returns: the command and every field a message can fill."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.ima.tasks import MediaKind, TaskType


class Command(StrEnum):
    """The one action a message asks for. Only ``GENERATE`` (and ``RETRY``) may spend credits."""

    #: Make something now: a picture, video or song was asked for (see ``unsure``).
    GENERATE = "generate"
    #: Change or re-parameterise the person's last result ("make it vertical", "add a
    #: seagull", "3 more", "让它动起来") with nothing attached: see ``edit``.
    EDIT = "edit"
    #: A question to the bot, answered without spending ("能做音乐吗", "what does a video
    #: cost?", "is this picture real?" with a picture): see ``question``.
    QUESTION = "question"
    #: Remarks, thanks, greetings, reactions, complaints ("好看！", "thanks", "太慢了吧").
    CHAT = "chat"
    #: The person's own credits and usage ("我的额度", "my usage", "how many credits do I have
    #: left?"), asked or not.
    USAGE = "usage"
    #: Stop choosing a model ("stop using sora", "别用可灵了"): ``model`` is the one to avoid.
    AVOID_MODEL = "avoid_model"
    #: A model named with nothing to make: use it this time.
    USE_MODEL = "use_model"
    #: A model to remember as the default ("以后都用可灵", "make X my default").
    ALWAYS_MODEL = "always_model"
    #: "换个模型 / another model": offer the other models.
    ANOTHER_MODEL = "another_model"
    #: "用最好的 / the best" alone (``model_scope`` ALWAYS: remember it).
    BEST = "best"
    #: "用便宜的 / the cheapest" alone (``model_scope`` ALWAYS: "以后用便宜的就行").
    CHEAPEST = "cheapest"
    #: Forget the saved default models ("清除我的偏好", "go back to the default"); ``media``
    #: says which kind when one is named.
    RESET = "reset"
    #: Show the saved defaults ("我的偏好", "what's my default").
    SHOW_PREFS = "show_prefs"
    CONFIRM_YES = "confirm_yes"
    CONFIRM_NO = "confirm_no"
    HELP = "help"
    #: "再来一次 / again" with nothing new: the last request again, with ``model`` or
    #: ``quality`` when named ("用可灵再来一次", "redo it with the cheapest").
    RETRY = "retry"
    #: "我的作品 / 历史记录 / my history / my creations" alone: list the person's recent results.
    HISTORY = "history"
    #: Nothing readable: empty, emoji or punctuation only.
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


class QuestionTopic(StrEnum):
    """What a question to the bot is about."""

    #: What something costs ("what does a video cost?", "用可灵要多少积分").
    PRICE = "price"
    #: Which models can do something, or which is best ("which model is best for anime?").
    MODELS = "models"
    #: How long making something takes ("how long do videos take?", "要等多久").
    TIME = "time"
    #: What the bot can do ("能做音乐吗", "can you make 4K videos?", "veo能配音吗").
    CAPABILITIES = "capabilities"
    #: The largest, longest, most there is ("longest video?", "一次最多几张").
    LIMITS = "limits"
    #: How credits work, apart from the person's own balance, which is ``Command.USAGE``
    #: ("积分怎么获得", "how do credits work?").
    CREDITS = "credits"
    #: About an attached picture ("is this picture real?", "这是什么" with a picture).
    ABOUT_INPUT = "about_input"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Question:
    topic: QuestionTopic
    #: What the question asks about, when it names one of: ``aspect_ratio``, ``4k`` (high
    #: resolution or size), ``audio``, ``first_last_frame``, ``reference``, ``lyrics``,
    #: ``duration``, ``count``, ``anime``, ``realistic``, ``text`` (lettering in a picture),
    #: ``vocals``, ``instrumental``, ``image_to_video``, ``image_to_image``.
    feature: str | None = None


class EditKind(StrEnum):
    """How an edit changes the last result."""

    #: Only parameters change: ratio, duration, resolution, size, sound ("make it vertical",
    #: "10 seconds", "in 4K", "再高清一点").
    PARAMS = "params"
    #: What it shows or sounds like changes ("add a seagull", "换成夜景", "sadder"): the change
    #: is in ``prompt``.
    CONTENT = "content"
    #: Turn it into another medium, in ``media`` ("make a video of it", "配个音乐").
    MEDIA = "media"
    #: More of the same, ``count`` of them ("3 more", "再来三张").
    MORE = "more"


@dataclass(frozen=True, slots=True)
class Edit:
    kind: EditKind


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """What one message says. Every field but ``command`` is optional; the fields a command
    does not use keep their defaults (``NONE``, ``CHAT``, the replies and the preference
    commands carry only what they need: ``model``, ``quality``, ``model_scope``, ``media``)."""

    command: Command
    #: For ``GENERATE``: the description for the generator, the request frame removed; ""
    #: when nothing was described (the engine asks what to make). For ``EDIT``: the change
    #: itself ("add a seagull", "换成夜景", "sadder"); "" for a change of parameters only.
    prompt: str = ""
    #: The kind of output named by the words (not by the model name).
    media: MediaKind | None = None
    #: The task the words and attachments ask for; None when the media is unknown.
    task_type: TaskType | None = None
    #: The entry of ``model_names`` that was named, exactly as given (for ``AVOID_MODEL``:
    #: the one to avoid; a negated name is never chosen).
    model: str | None = None
    #: Set with ``model`` or ``quality``: only this time, or remember as the default.
    model_scope: ModelScope | None = None
    #: For ``GENERATE``: a model named with a negation ("画个龙 别用mj"), left out of this
    #: request only.
    avoided: str | None = None
    quality: Quality | None = None
    #: "换个模型 / another model" was said (the command when nothing else is asked).
    another_model: bool = False
    #: The user explicitly asked for high-end quality (also true with ``Quality.BEST``).
    premium_requested: bool = False
    #: What is asked is insisted on ("一定要 21:9", "must be 4K", "21:9 or nothing"): a format
    #: or size the model lacks is refused rather than left out.
    insisted: bool = False
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
    #: 8K was asked for (no model makes it; the engine explains).
    wants_8k: bool = False
    #: A vector file was asked for (SVG, 矢量图): no model makes one; the engine explains.
    vector: bool = False
    #: Outputs asked for, when 1..4.
    count: int | None = None
    #: Outputs asked for, as asked (may exceed 4; the engine knows each task's limit).
    count_requested: int | None = None
    #: Lyrics given after ``歌词:``/``lyrics:``, lines kept.
    lyrics: str | None = None
    #: "male" / "female".
    vocal_gender: str | None = None
    #: Music without vocals (True), with vocals (False), not said (None).
    instrumental: bool | None = None
    #: Video with sound (True), explicitly silent (False), not said (None).
    audio: bool | None = None
    #: Music length in seconds (not settable; the engine explains).
    music_duration: int | None = None
    #: From ``negative:``/``反向提示词:`` or Midjourney's ``--no``.
    negative_prompt: str | None = None
    seed: int | None = None
    #: ``GENERATE`` only: the media can't be told and no model is named; ``question_hint``
    #: says what to ask.
    ambiguous: bool = False
    question_hint: QuestionHint | None = None
    #: ``GENERATE`` only: the parser is not sure the person wants it made now (a request
    #: phrased as a question that is not clear-cut, a wish rather than a request, mostly
    #: unrecognised words): show what would be made with a confirm button instead.
    unsure: bool = False
    #: ``QUESTION`` only: what is asked.
    question: Question | None = None
    #: ``EDIT`` only: how the last result changes.
    edit: Edit | None = None
    #: https links to pictures in the text (by extension, or any link when the text says
    #: "this image"/"这张图"), removed from the prompt; they count as attached pictures for
    #: ``task_type`` (the engine passes them on as they are).
    image_urls: tuple[str, ...] = ()
