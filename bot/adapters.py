"""The chat platforms ``ima-bot run`` knows: each builder returns an adapter when configured."""

from __future__ import annotations

from bot.discord.adapter import build_discord_adapter
from bot.feishu.adapter import build_feishu_adapter
from bot.run import AdapterBuilder

ADAPTERS: list[AdapterBuilder] = [build_discord_adapter, build_feishu_adapter]
