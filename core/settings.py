"""Settings read once from the environment (and ``.env``); secrets are ``SecretStr``.

Every setting is documented in ``.env.example``. ``load_settings`` turns a validation error into
sentences that say which variable to fix, so a bad setting never surfaces as a traceback.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.ima.session import DEFAULT_BASE_URL, DEFAULT_UPLOAD_BASE_URL
from core.policy import Policy

IdSet = Annotated[frozenset[str], NoDecode]
WordList = Annotated[tuple[str, ...], NoDecode]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    ima_api_key: SecretStr | None = None
    ima_base_url: str = DEFAULT_BASE_URL
    ima_upload_base_url: str = DEFAULT_UPLOAD_BASE_URL
    #: Seconds between polls for every task type (overrides the spec's table; tests and demos).
    ima_poll_interval: float | None = Field(default=None, gt=0)
    database_url: str = "ima-bot.db"
    bot_lang: Literal["zh", "en"] = "en"
    #: Scales expected times and intervals (demos against a sped-up simulator); 1 in production.
    time_scale: float = Field(default=1.0, gt=0)

    http_host: str = "0.0.0.0"  # noqa: S104 - a container's server must listen on all interfaces
    http_port: int = Field(default=8080, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    max_jobs_per_user: int = Field(default=3, ge=1)
    user_daily_credits: int | None = Field(default=None, ge=0)
    chat_daily_credits: int | None = Field(default=None, ge=0)
    banned_words: WordList = ()
    discord_allowed_guilds: IdSet = frozenset()
    discord_allowed_channels: IdSet = frozenset()
    discord_admin_ids: IdSet = frozenset()
    feishu_allowed_chats: IdSet = frozenset()
    feishu_admin_ids: IdSet = frozenset()

    @field_validator(
        "banned_words",
        "discord_allowed_guilds",
        "discord_allowed_channels",
        "discord_admin_ids",
        "feishu_allowed_chats",
        "feishu_admin_ids",
        mode="before",
    )
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("ima_base_url", "ima_upload_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// for a local simulator)")
        return value.rstrip("/")

    @field_validator("ima_api_key")
    @classmethod
    def _key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            return None
        return value

    def policy(self) -> Policy:
        return Policy(
            allowed_places={
                "discord": self.discord_allowed_guilds | self.discord_allowed_channels,
                "feishu": self.feishu_allowed_chats,
            },
            admins={"discord": self.discord_admin_ids, "feishu": self.feishu_admin_ids},
            banned_words=self.banned_words,
            max_active_per_user=self.max_jobs_per_user,
            user_daily_credits=self.user_daily_credits,
            chat_daily_credits=self.chat_daily_credits,
        )


class SettingsError(Exception):
    """Settings are missing or malformed; ``str()`` says which and how to fix them."""


def describe(error: ValidationError, model: type[BaseSettings] = Settings) -> str:
    """One line per problem, naming the environment variable, never echoing its value."""
    prefix = str(model.model_config.get("env_prefix") or "")
    lines = []
    for problem in error.errors():
        name = (prefix + "_".join(str(p) for p in problem["loc"] if isinstance(p, str))).upper()
        lines.append(f"{name}: {problem['msg']}")
    return "\n".join(lines)


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(describe(exc)) from None
