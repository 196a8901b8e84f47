"""``DISCORD_*`` settings, read once from the environment (and ``.env``)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.settings import SettingsError, describe

DEFAULT_API_BASE = "https://discord.com/api/v10"
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg"


class DiscordSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DISCORD_", env_file=".env", extra="ignore")

    #: The bot token from the developer portal; the adapter starts only when it is set.
    token: SecretStr | None = None
    #: REST base and gateway; large deployments put proxies here.
    api_base: str = DEFAULT_API_BASE
    gateway_url: str = DEFAULT_GATEWAY_URL
    #: Guilds whose commands are synced at once (a global sync can take an hour to show).
    guild_ids: Annotated[tuple[int, ...], NoDecode] = ()
    #: Answer DMs and @mentions as free text; needs the Message Content intent in the portal.
    message_content: bool = False

    @field_validator("guild_ids", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("api_base")
    @classmethod
    def _api_base(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// for a local proxy)")
        return value.rstrip("/")

    @field_validator("gateway_url")
    @classmethod
    def _gateway_url(cls, value: str) -> str:
        if not value.startswith(("wss://", "ws://")):
            raise ValueError("must start with wss:// (or ws:// for a local proxy)")
        return value

    @field_validator("token")
    @classmethod
    def _token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            return None
        return value


def load_discord_settings(**overrides: Any) -> DiscordSettings:
    """Like :func:`core.settings.load_settings`: errors name the variable, never its value."""
    try:
        return DiscordSettings(**overrides)
    except ValidationError as exc:
        raise SettingsError(describe(exc, DiscordSettings)) from None
