"""From a read message (and a slash command's options) to what it asks to make.

:func:`core.parse.parse_message` says what the words say; :func:`merge` weighs a language
model's reading against it when one is configured; this module adds what the request itself
says (options, attachments) and decides the task type and the wishes, one rule each.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from core.ima.catalog import Catalog
from core.ima.tasks import TaskType, task_for
from core.llm import Kind, PreferenceOp, Reading
from core.parse import Command, Edit, EditKind, ParsedMessage, Question, QuestionTopic
from core.request import Options
from core.wants import Wants

#: Commands that start a job.
SPENDING = frozenset({Command.GENERATE, Command.EDIT, Command.RETRY})
#: Commands the rules read from the whole message (yes, help, …): no model is asked about them.
CERTAIN = frozenset(
    {
        Command.CONFIRM_YES,
        Command.CONFIRM_NO,
        Command.HELP,
        Command.HISTORY,
        Command.SHOW_PREFS,
        Command.USAGE,
    }
)
_PREFERENCES = {
    PreferenceOp.RESET: Command.RESET,
    PreferenceOp.SHOW: Command.SHOW_PREFS,
    PreferenceOp.BEST: Command.BEST,
    PreferenceOp.CHEAPEST: Command.CHEAPEST,
    PreferenceOp.ANOTHER: Command.ANOTHER_MODEL,
}


def merge(parsed: ParsedMessage, reading: Reading | None) -> ParsedMessage:
    """The rules' reading, corrected by a language model's where the rules could not tell.

    Details the rules found in the text (models, numbers, ratios, durations, lyrics) always
    stay. When exactly one of the two would spend credits, the request is proposed (``unsure``:
    the person taps to make it) rather than made or dropped; when neither would spend, a model
    that recognised a question, a preference or a remark the rules missed is followed."""
    if reading is None:
        return parsed
    rules_spend = parsed.command in SPENDING and not parsed.ambiguous
    model_spends = reading.kind in (Kind.GENERATE, Kind.CONTINUE)
    if rules_spend:
        if model_spends:
            cleaned = reading.prompt if parsed.command is Command.GENERATE else None
            return replace(parsed, prompt=cleaned or parsed.prompt)
        return replace(parsed, unsure=True)
    unread = parsed.command is Command.NONE or parsed.ambiguous
    if model_spends:
        if not unread:  # the rules read a question, a preference or a remark: keep it
            return parsed
        prompt = reading.prompt or parsed.prompt
        if reading.kind is Kind.CONTINUE:
            edit = Edit(EditKind.CONTENT)
            return replace(parsed, command=Command.EDIT, prompt=prompt, edit=edit, unsure=True)
        if reading.media is None and parsed.media is None:
            return parsed  # still no medium: the rules' question stands
        return replace(
            parsed,
            command=Command.GENERATE,
            media=parsed.media or reading.media,
            prompt=prompt,
            ambiguous=False,
            question_hint=None,
            unsure=True,
        )
    if not unread:
        return parsed
    if reading.kind is Kind.QUESTION:
        topic = QuestionTopic(reading.topic.value) if reading.topic else QuestionTopic.OTHER
        return _quiet(parsed, Command.QUESTION, Question(topic, None))
    if reading.kind is Kind.PREFERENCE and reading.preference in _PREFERENCES:
        return _quiet(parsed, _PREFERENCES[reading.preference])
    if reading.kind is Kind.CHAT:
        return _quiet(parsed, Command.CHAT)
    return parsed


def _quiet(
    parsed: ParsedMessage, command: Command, question: Question | None = None
) -> ParsedMessage:
    """``parsed`` as ``command``, without the generation's fields that no longer apply."""
    return replace(
        parsed, command=command, prompt="", ambiguous=False, question_hint=None, question=question
    )


def task_type(
    options: Options, parsed: ParsedMessage, images: int, catalogs: Iterable[Catalog]
) -> TaskType | None:
    """The task: the options' media wins over the words; a named model implies its media."""
    if options.media is None and parsed.task_type is not None:
        return parsed.task_type
    media = options.media or parsed.media
    if media is None and (named := options.model or parsed.model):
        kinds = {c.task_type.media for c in catalogs if c.find(named) is not None}
        media = kinds.pop() if len(kinds) == 1 else None
    if media is None:
        return None
    asked = TaskType.FIRST_LAST_FRAME_TO_VIDEO if options.first_last_frame else parsed.task_type
    return task_for(media, images, asked=asked)


def wants(options: Options, parsed: ParsedMessage) -> Wants:
    """What the person wants of any model; the options win over the words."""
    o = options
    return Wants(
        duration=o.duration or parsed.duration,
        resolution=o.resolution or parsed.resolution,
        aspect_ratio=o.aspect_ratio or parsed.aspect_ratio or parsed.custom_ratio,
        size=o.size or parsed.size,
        wants_8k=parsed.wants_8k,
        vector=parsed.vector,
        count=o.count or parsed.count_requested or parsed.count,
        audio=o.audio if o.audio is not None else parsed.audio,
        lyrics=o.lyrics or parsed.lyrics,
        instrumental=o.instrumental if o.instrumental is not None else parsed.instrumental,
        vocal_gender=o.vocal_gender or parsed.vocal_gender,
        music_duration=parsed.music_duration,
        negative_prompt=parsed.negative_prompt,
        seed=parsed.seed,
    )


def prompt(parsed: ParsedMessage, wants: Wants) -> str:
    """The description: the words, or for a song given only its lyrics, their first line
    (after a section tag such as "[Verse]" on a line of its own)."""
    described = parsed.prompt.strip()
    if described or not wants.lyrics:
        return described
    lines = [line.strip() for line in wants.lyrics.splitlines() if line.strip()]
    sung = [line for line in lines if not (line.startswith("[") and line.endswith("]"))]
    return next(iter(sung or lines), "")
