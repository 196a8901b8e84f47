"""``DISCORD_*`` settings, read once from the environment (and ``.env``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, ClassVar

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from bot.settings import PlatformSettings
from core.access import Access, AccessKind
from core.settings import HttpUrl, IdSet, Secret

DEFAULT_API_BASE = "https://discord.com/api/v10"
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg"
DEFAULT_CDN_HOSTS = frozenset({"cdn.discordapp.com", "media.discordapp.net"})
#: Servers, channels and people are all snowflakes: a number (Developer Mode's "Copy ID").
_SNOWFLAKE = re.compile(r"[1-9][0-9]{0,19}")


def _ws_url(value: str) -> str:
    if not value.startswith(("wss://", "ws://")):
        raise ValueError("must start with wss:// (or ws:// for a local proxy)")
    return value


def _ints(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def _shard_ids(value: object) -> object:
    """``0-3`` (a range, both ends included), ``0,2``, or both: ``0-1,4``."""
    if not isinstance(value, str):
        return value
    ids: list[int] = []
    for part in filter(None, (p.strip() for p in value.split(","))):
        first, dash, last = part.partition("-")
        try:
            start, end = int(first), int(last if dash else first)
        except ValueError:
            raise ValueError(f"{part!r} is not a shard number or a range like 0-3") from None
        if end < start:
            raise ValueError(f"the range {part!r} runs backwards")
        ids.extend(range(start, end + 1))
    if len(set(ids)) != len(ids):
        raise ValueError("a shard is listed twice")
    return tuple(ids)


class DiscordSettings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="DISCORD_")
    access_ids: ClassVar[Mapping[AccessKind, re.Pattern[str]]] = {
        AccessKind.PLACE: _SNOWFLAKE,
        AccessKind.ADMIN: _SNOWFLAKE,
    }

    #: The bot token from the developer portal; the adapter starts only when it is set.
    token: Secret = None
    #: REST base and gateway; large deployments put proxies here.
    api_base: HttpUrl = DEFAULT_API_BASE
    gateway_url: Annotated[str, AfterValidator(_ws_url)] = DEFAULT_GATEWAY_URL
    #: Guilds whose commands are synced at once (a global sync can take an hour to show).
    guild_ids: Annotated[tuple[int, ...], NoDecode, BeforeValidator(_ints)] = ()
    #: Answer DMs and @mentions as free text; needs the Message Content intent in the portal.
    message_content: bool = False
    #: The only hosts pictures people attach are downloaded from (redirects included).
    cdn_hosts: IdSet = DEFAULT_CDN_HOSTS
    #: Servers and channels the bot answers in (empty: everywhere), and who no limit applies to.
    allowed_guilds: IdSet = frozenset()
    allowed_channels: IdSet = frozenset()
    admin_ids: IdSet = frozenset()
    #: Sharding: how many shards the bot runs in all (unset: one process runs every shard
    #: Discord recommends), and which of them this replica connects (unset: all). Replicas
    #: split the ids between them; DMs arrive on shard 0.
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: Annotated[tuple[int, ...] | None, NoDecode, BeforeValidator(_shard_ids)] = None

    @field_validator("shard_ids")
    @classmethod
    def _shards_fit(cls, ids: tuple[int, ...] | None, info: ValidationInfo) -> object:
        if ids is None:
            return ids
        count = info.data.get("shard_count")
        if count is None:
            raise ValueError("needs DISCORD_SHARD_COUNT")
        if not ids:
            raise ValueError("lists no shard")
        outside = [i for i in ids if i >= count]
        if outside:
            raise ValueError(f"shards {outside} are not below DISCORD_SHARD_COUNT={count}")
        return ids

    @property
    def configured(self) -> bool:
        return self.token is not None

    def access(self) -> Access:
        return Access(self.allowed_guilds | self.allowed_channels, self.admin_ids)
