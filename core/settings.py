"""Settings read once from the environment (and ``.env``); secrets are ``SecretStr``."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.ima.session import DEFAULT_BASE_URL, DEFAULT_UPLOAD_BASE_URL


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    ima_api_key: SecretStr | None = None
    ima_base_url: str = DEFAULT_BASE_URL
    ima_upload_base_url: str = DEFAULT_UPLOAD_BASE_URL
    #: Seconds between polls for every task type (overrides the spec's table; tests and demos).
    ima_poll_interval: float | None = Field(default=None, gt=0)
    database_url: str = "ima-bot.db"
    bot_lang: str = "en"
    max_jobs_per_user: int = Field(default=3, ge=1)
    #: Scales expected times and intervals (demos against a sped-up simulator); 1 in production.
    time_scale: float = Field(default=1.0, gt=0)
