"""Pass 9: the command: what the message asks the bot to do."""

from __future__ import annotations

import re

from core.parse.frames import REQUEST_VERB_RE, lead_end
from core.parse.lexicon import lexicon, words
from core.parse.model import Command, Quality
from core.parse.state import State
from core.parse.text import NOCASE

#: Up to 8 characters between a verb and its object ("清除我的视频偏好"), or a few English
#: words ("reset all of my video preferences").
_GAP = r"(?:[^\x00\n。!?]{0,8}?|(?:\s+[A-Za-z]+){0,4}\s+)"
_RESET_RE = re.compile(
    rf"{words('preference.reset_verb')}{_GAP}{words('preference.reset_object')}"
    rf"|{words('preference.reset')}|\A[\s\x00]*{words('preference.reset_alone')}[\s\x00.!]*\Z",
    NOCASE,
)
_SHOW_PREFS_RE = re.compile(
    rf"{words('preference.show_verb')}(?:我的)?{_GAP}{words('preference.show_object')}"
    rf"|{words('preference.show')}",
    NOCASE,
)
#: A question to the bot rather than a request ("what is …", "为什么 …").
_QUESTION_RE = lexicon().pattern("question.start")
_QUESTION_END_RE = re.compile(rf"{words('question.end')}[?\s]*\Z")


def command(state: State) -> None:
    state.command = _command(state)


def _command(s: State) -> Command:
    d = s.directives
    directed = d.model is not None or d.quality is not None or s.another_model
    reset = not directed and s.scan.search(_RESET_RE) is not None
    show = not directed and s.scan.search(_SHOW_PREFS_RE) is not None
    if s.described or (s.images and (s.media.media is not None or not directed)):
        if reset:
            return Command.RESET
        if show:
            return Command.SHOW_PREFS
        question = (
            not s.images
            and not directed
            and not s.has_parameters
            and s.media.media is None
            and not s.media.conflict
            and (
                _QUESTION_RE.match(s.scan.view, lead_end(s.scan.view)) is not None
                or _QUESTION_END_RE.search(s.scan.view, max(0, len(s.scan.view) - 12)) is not None
            )
            and s.scan.search(REQUEST_VERB_RE) is None
        )
        return Command.NONE if question else Command.GENERATE
    if (
        directed
        and not d.always
        and s.media.media is not None
        and s.scan.search(REQUEST_VERB_RE) is not None
    ):
        return Command.GENERATE
    if d.model is not None:
        return Command.ALWAYS_MODEL if d.always else Command.USE_MODEL
    if d.quality is not None:
        return Command.BEST if d.quality is Quality.BEST else Command.CHEAPEST
    if s.another_model:
        return Command.ANOTHER_MODEL
    if reset:
        return Command.RESET
    if show:
        return Command.SHOW_PREFS
    if s.retry:
        return Command.RETRY
    if (
        s.media.media is not None
        or s.media.conflict
        or s.has_parameters
        or s.media.mentions_input_image
    ):
        return Command.GENERATE
    return Command.NONE
