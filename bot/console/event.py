"""One line typed at the console → a chat request or a button press (pure)."""

from __future__ import annotations

import re
from pathlib import Path

from core.door import Press
from core.request import Attachment, ChatRequest

PLATFORM = "console"
USER_ID = "console-user"

# "@photo.png" or "@\"my photo.png\"" attaches a local image.
_ATTACHMENT = re.compile(r'(?:^|(?<=\s))@(?:"([^"]+)"|(\S+))')
#: "!3" presses button 3 of those shown so far.
_PRESS = re.compile(r"\s*!(\d+)\s*")


def button_number(line: str) -> int | None:
    """The button a line presses (1 = the first shown), if it is a press."""
    match = _PRESS.fullmatch(line)
    return int(match.group(1)) if match else None


def parse_line(line: str, *, number: int, user_id: str = USER_ID) -> ChatRequest:
    """The ``number``-th line typed in this session, as a request."""
    paths = [Path(quoted or bare).expanduser() for quoted, bare in _ATTACHMENT.findall(line)]
    text = " ".join(_ATTACHMENT.sub(" ", line).split())
    return ChatRequest(
        platform=PLATFORM,
        user_id=user_id,
        chat_id=PLATFORM,
        reply_target={},
        text=text,
        message_id=f"line-{number}",
        attachments=tuple(Attachment(p.name, {"path": str(p)}) for p in paths),
        private=True,
    )


def press(action: str, user_id: str = USER_ID) -> Press:
    return Press(platform=PLATFORM, user_id=user_id, chat_id=PLATFORM, action=action)
