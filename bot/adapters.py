"""The chat platforms ``ima-bot run`` knows, one entry each: its settings and its adapter.

Adapters (and with them discord.py and lark-oapi) are imported only when a platform is
configured, so commands that run no platform (``generate``, ``sim``, ``admin``, ``console``)
start without loading the chat SDKs. The secrets to keep out of logs and the platforms
``ima-bot admin`` knows are derived from this list.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from bot.discord.config import DiscordSettings
from bot.feishu.config import FeishuSettings
from bot.settings import PlatformSettings
from core.access import AccessKind
from core.settings import load

if TYPE_CHECKING:
    from bot.base import Adapter
    from core.door import Door


@dataclass(frozen=True)
class Entry:
    name: str
    settings: type[PlatformSettings]
    #: ``module:class`` of the adapter, built as ``Class(door, settings)``.
    adapter: str

    def load(self) -> PlatformSettings:
        return load(self.settings)

    def build(self, door: Door, settings: PlatformSettings) -> Adapter:
        module, _, name = self.adapter.partition(":")
        factory = getattr(importlib.import_module(module), name)
        return cast("Callable[[Door, PlatformSettings], Adapter]", factory)(door, settings)


ADAPTERS: tuple[Entry, ...] = (
    Entry("discord", DiscordSettings, "bot.discord.adapter:DiscordAdapter"),
    Entry("feishu", FeishuSettings, "bot.feishu.adapter:FeishuAdapter"),
)

#: Every platform people can talk to the bot on (``ima-bot admin`` choices).
PLATFORMS: tuple[str, ...] = (*(e.name for e in ADAPTERS), "console")

#: The platforms whose allowlists operators edit (the console's own chat has none).
ALLOWLIST_PLATFORMS: tuple[str, ...] = tuple(e.name for e in ADAPTERS)


def access_id(platform: str, kind: AccessKind, text: str) -> str:
    """``text`` as an id of ``platform``'s allowlist of ``kind``, without the spaces around it;
    ValueError when it can't be one (an unknown platform, or not that platform's kind of id)."""
    entry = next((e for e in ADAPTERS if e.name == platform), None)
    if entry is None:
        raise ValueError(f"{platform!r} has no allowlists")
    entry_id = text.strip()
    if not entry.settings.access_ids[kind].fullmatch(entry_id):
        raise ValueError(f"{entry_id!r} is not a {platform} {kind.value} id")
    return entry_id
