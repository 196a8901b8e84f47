"""The chat platforms ``ima-bot run`` knows: each builder returns an adapter when configured."""

from __future__ import annotations

from bot.run import AdapterBuilder

ADAPTERS: list[AdapterBuilder] = []
