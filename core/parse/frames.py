"""Request frames: the politeness and verbs around what to make ("帮我画一张", "can you draw").

Several passes read them: media (an imperative "画/draw" opening the request asks for a
picture), the command (is a request verb there?) and the prompt (the frame is removed).
"""

from __future__ import annotations

import re

from core.parse.lexicon import words
from core.parse.text import NOCASE

#: Words that contain a media word but name none ("画面", "video game"): a verb that starts
#: one of them is no verb ("画面要暗一点").
NOT_MEDIA = words("media.not_media")
POLITE = words("frame.polite")
#: Words that frame what follows without being part of it: "ngl is this ai", "说真的 这是p的吗".
_HEDGE = words("frame.hedge")
SEPARATORS = r"[\s\x00\x01,!.~。、]*"
#: A remark before the request, set off by punctuation: "nice, add a moon", "好看，再来三张".
_REMARK = (
    rf"{words('chat.reaction', 'reply.chat')}[\s\x00\x01]*[,!.~。、，！]"
    rf"|{words('chat.laugh')}[\s\x00\x01]*(?:[,!.~。、，！]|\s)"  # "哈哈 再来三张", "lol make it…"
    # "ok cool now make it a video", "cool can u add rain": a reaction before a word that goes
    # on to the request; "谢谢 再来个竖版的": before a Chinese clause
    rf"|{words('chat.reaction', 'reply.chat')}[\s\x00\x01]+"
    rf"(?=(?:{words('frame.after_remark', 'frame.polite', 'edit.verb')})\s|[\u3400-\u9fff])"
)
_POLITE_LEAD_RE = re.compile(
    rf"{SEPARATORS}(?:(?:{POLITE}|{_HEDGE}|{_REMARK}){SEPARATORS})*", NOCASE
)
#: A remark may follow a yes ("ok cool now make it a video").
_REMARK_LEAD_RE = re.compile(
    rf"{SEPARATORS}(?:(?:{words('reply.yes')}{SEPARATORS})?(?:{_REMARK}){SEPARATORS})*", NOCASE
)
DRAW_RE = re.compile(rf"(?!{NOT_MEDIA}){words('frame.draw')}", NOCASE)
CLASSIFIER = words("frame.classifier")


def lead_end(view: str) -> int:
    """Where the request starts after greetings, politeness and a remark ("帮我", "can you
    please", "nice, …")."""
    m = _POLITE_LEAD_RE.match(view)
    return m.end() if m else 0


def remark_end(view: str) -> int:
    """Where the message starts after a remark set off by punctuation ("好看，再来三张")."""
    m = _REMARK_LEAD_RE.match(view)
    return m.end() if m else 0


#: "一下" after a verb: "画一下", "来一下".
_ONCE = words("frame.once")
#: A verb opening a request: "生成", "画" (not "画面"), a light verb before a measure word or
#: media noun ("来一张", "做视频", "整一张"), "make me" (not "make it").
LEAD_VERB = (
    rf"(?:(?!{NOT_MEDIA}){words('frame.verb')}"
    rf"|{words('frame.light_verb')}(?=[\s\x00]*{_ONCE}?[\s\x00]*"
    rf"(?:(?:[一两二三四五六七八九十]|\d{{1,3}})[\s\x00]*)?{CLASSIFIER}|[\s\x00]*\x00|"
    rf"{words('frame.light_verb_noun')}))"
    rf"(?:\s+{words('frame.verb_object')})?(?!\s+{words('frame.not_verb_object')}){_ONCE}?"
)
_REQUEST_VERB_RE = re.compile(
    rf"(?P<skip>{NOT_MEDIA})|(?P<verb>{words('frame.request_verb')})", NOCASE
)


def has_request_verb(text: str) -> bool:
    """Whether a request verb is in the text, outside words such as "画面" or "喜欢画画"."""
    return any(m.lastgroup == "verb" for m in _REQUEST_VERB_RE.finditer(text))
