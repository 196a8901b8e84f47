"""One line typed at the console → a chat request (pure; tested without a terminal)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

from core.ima.upload import read_file
from core.request import Attachment, ChatRequest

PLATFORM = "console"

# "@photo.png" or "@\"my photo.png\"" attaches a local image.
_ATTACHMENT = re.compile(r'(?:^|(?<=\s))@(?:"([^"]+)"|(\S+))')


def _file_fetcher(path: Path) -> Callable[[int], Awaitable[bytes]]:
    async def fetch(max_bytes: int) -> bytes:
        return await asyncio.to_thread(read_file, path, max_bytes)

    return fetch


def parse_line(line: str, *, user_id: str) -> ChatRequest:
    paths = [Path(quoted or bare).expanduser() for quoted, bare in _ATTACHMENT.findall(line)]
    text = " ".join(_ATTACHMENT.sub(" ", line).split())
    return ChatRequest(
        platform=PLATFORM,
        user_id=user_id,
        chat_id=PLATFORM,
        reply_target={},
        text=text,
        attachments=tuple(Attachment(name=p.name, fetch=_file_fetcher(p)) for p in paths),
    )
