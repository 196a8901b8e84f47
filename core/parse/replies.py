"""Pass 2: whole-message replies: yes, no, help, history, greetings and thanks."""

from __future__ import annotations

import re

from core.parse.model import Command
from core.parse.state import State
from core.parse.text import FOLD, NOCASE

_TRIM_RE = re.compile(r"^[\W_]+|[\W_]+$")
_JOIN = r"[\s,.!~、。…]*"
_PARTICLES = r"(?:吧|啦|了|呀|啊|的|哈|哦|嘛|呢|谢谢|thanks|please|pls)"


def _whole(words: str) -> re.Pattern[str]:
    """Words that make up a whole message, possibly repeated ("嗯嗯，好的") with particles."""
    return re.compile(rf"(?:{words})(?:{_JOIN}(?:{words}|{_PARTICLES}))*", NOCASE)


_YES_RE = _whole(
    r"是|是的|好|好的|好啊|好呀|好滴|对|对的|对啊|嗯+|恩|行|可以|确定|确认|保存|存|设为默认|没问题|"
    r"当然|要|需要|yes|y|yeah|yep|yup|ya|ok|okay|k|kk|sure|save|save it|of course|definitely|"
    r"sounds good|do it|go ahead|please do|yes please|👍"
)
_NO_RE = _whole(
    r"否|不|不是|不用|不用了|不要|不了|别|算了|不必|不需要|没必要|仅本次|仅这次|只本次|就这一次|就这次|"
    r"只用这次|只这一次|这次就行|一次就好|取消|no|n|nope|nah|no thanks|not now|don'?t|do not|"
    r"just this once|only this once|just this time|only this time|cancel"
)
_HELP_RE = _whole(
    r"/?help|帮助|菜单|使用说明|使用方法|说明书?|怎么用|如何使用|如何用|你能做什么|你会做什么|你会什么|"
    r"你可以做什么|能做什么|你是谁|指令|命令|who are you|what can you do|what do you do|"
    r"how (?:do i|to|can i) use (?:this|you|it|the bot)|commands|usage|menu"
)
_HISTORY_RE = _whole(
    r"(?:查看|看看|显示|列出|打开)?(?:我的|我)?(?:作品|作品集|历史|历史记录|生成记录|创作记录|记录)|"
    r"(?:show|list|see|view|open)? ?(?:me )?my (?:history|results|creations|generations|works|"
    r"images|videos|songs|gallery)|history|/history"
)
_CHITCHAT_RE = _whole(
    r"hi|hello|hey|hiya|yo|howdy|sup|你好|您好|嗨|哈喽|哈啰|嘿|在吗|在不在|在么|早|早安|早上好|中午好|"
    r"下午好|晚上好|晚安|good ?(?:morning|afternoon|evening|night)|thanks|thank you|thx|ty|tks|"
    r"谢谢你?|多谢|感谢|谢啦|谢了|辛苦了|cool|nice|great|awesome|amazing|wow|lol|lmao|ha(?:ha)+|"
    r"he(?:he)+|哈+|呵呵|嘿嘿|bye|goodbye|再见|拜拜|good job|well done|棒|很棒|太棒了|真棒|厉害|"
    r"不错|牛|there|bot|everyone|all|you|a lot|so much|very much|你|您|👍|❤️|🙏"
)
_WHOLE_COMMANDS = (
    (_YES_RE, Command.CONFIRM_YES),
    (_NO_RE, Command.CONFIRM_NO),
    (_HELP_RE, Command.HELP),
    (_HISTORY_RE, Command.HISTORY),
    (_CHITCHAT_RE, Command.NONE),
)


def whole_message(state: State) -> None:
    """A short message that is one reply as a whole ("好的", "no thanks", "help", "hi")."""
    raw = state.scan.raw
    if len(raw) > 200:
        return
    text = _TRIM_RE.sub("", raw.translate(FOLD))
    for pattern, command in _WHOLE_COMMANDS:
        if pattern.fullmatch(text):
            state.command = command
            state.finished = True
            return
