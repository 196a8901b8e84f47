"""Pass 9: the command: what the message asks the bot to do."""

from __future__ import annotations

import re

from core.parse.frames import REQUEST_VERB_RE, lead_end
from core.parse.model import Command, Quality
from core.parse.state import State
from core.parse.text import NOCASE, B, E

_RESET_RE = re.compile(
    r"(?:清除|清空|删除|删掉|重置|忘掉|忘记|取消|还原)[^\x00\n。!?]{0,8}?(?:偏好|默认模型|默认设置|默认|习惯)|"
    rf"恢复默认(?:设置|模型)?|{B}(?:(?:reset|clear|delete|forget|remove|wipe|erase)\s+(?:all\s+)?"
    r"(?:of\s+)?(?:my\s+|the\s+)?(?:\w+\s+)?(?:preferences?|prefs?|defaults?|default\s+models?|"
    rf"settings)|forget\s+what\s+i\s+(?:like|prefer)){E}|\A[\s\x00]*reset[\s\x00.!]*\Z",
    NOCASE,
)
_SHOW_PREFS_RE = re.compile(
    r"(?:我的|查看|看看|显示|看一下|列出)(?:我的)?[^\x00\n。!?]{0,6}?(?:偏好|默认模型|默认设置|常用模型)|"
    r"我(?:现在|目前)?(?:默认)?(?:用|使用)的?是?(?:什么|哪个)模型|"
    rf"{B}(?:(?:show|list|view|see|check)\s+(?:me\s+)?my\s+(?:\w+\s+)?(?:preferences?|prefs?|"
    r"defaults?|settings)|what(?:'s|\s+is|\s+are)\s+my\s+(?:\w+\s+)?(?:preferences?|prefs?|"
    r"defaults?|default\s+models?|settings)|my\s+(?:preferences|prefs|defaults)|"
    rf"(?:which|what)\s+model\s+(?:am\s+i|do\s+i|are\s+you|do\s+you)\s+us\w*){E}",
    NOCASE,
)
#: A question to the bot rather than a request ("what is …", "为什么 …").
_QUESTION_RE = re.compile(
    rf"(?:{B}(?:what|why|how|who|when|where|which|is|are|does|do|did){E}|为什么|为啥|怎么|什么是|"
    r"如何|谁|哪|是不是)",
    NOCASE,
)
_QUESTION_END_RE = re.compile(
    r"(?:吗|呢|么|怎么样|如何|是什么|为什么|多少|几点|哪里|哪儿|好不好|行不行)[?\s]*\Z"
)


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
