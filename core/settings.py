"""The engine's settings, read once from the environment (and ``.env``); and the pieces every
settings class of the project shares.

Each part of the program owns its settings: IMA and spending here, the process (HTTP, logs,
database) in ``bot/settings.py``, each platform in its adapter's ``config.py``. All of them are
:class:`SettingsBase` subclasses: an empty value counts as not set (``.env.example`` leaves most
values empty, exactly as ``docker compose``'s ``env_file`` passes them), secrets are
``SecretStr``, and :func:`load` turns a validation error into sentences that name the variable,
never its value. Every setting is documented in ``.env.example``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.ima.session import DEFAULT_BASE_URL, DEFAULT_UPLOAD_BASE_URL
from core.leases import DEFAULT_LEASE_SECONDS, Lease, default_replica_id
from core.limits import Window
from core.llm import LLMConfig
from core.policy import Policy


def _comma_list(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def _http_url(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError("must start with https:// (or http:// for a local stand-in)")
    return value.rstrip("/")


def _no_blank_secret(value: SecretStr | None) -> SecretStr | None:
    if value is not None and not value.get_secret_value().strip():
        return None
    return value


#: "a, b,c" → ("a", "b", "c").
CommaList = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_comma_list)]
IdSet = Annotated[frozenset[str], NoDecode, BeforeValidator(_comma_list)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
Secret = Annotated[SecretStr | None, AfterValidator(_no_blank_secret)]


class SettingsBase(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    def secrets(self) -> list[str]:
        """The values of this settings' secrets that are set (for log redaction)."""
        return [
            value.get_secret_value()
            for name in type(self).model_fields
            if isinstance(value := getattr(self, name), SecretStr) and value.get_secret_value()
        ]


class Settings(SettingsBase):
    """IMA and what the engine allows."""

    ima_api_key: Secret = None
    ima_base_url: HttpUrl = DEFAULT_BASE_URL
    ima_upload_base_url: HttpUrl = DEFAULT_UPLOAD_BASE_URL
    #: Seconds between polls for every task type (overrides the spec's table; tests and demos).
    ima_poll_interval: float | None = Field(default=None, gt=0)
    bot_lang: Literal["zh", "en"] = "en"
    #: Scales expected times and intervals (demos against a sped-up simulator); 1 in production.
    time_scale: float = Field(default=1.0, gt=0)

    #: An OpenAI-compatible chat-completions endpoint to help read messages (all three set,
    #: or none: then the rules alone read them and nothing is sent anywhere).
    intent_llm_base_url: HttpUrl | None = None
    intent_llm_model: str | None = None
    intent_llm_api_key: Secret = None
    intent_llm_timeout: float = Field(default=2.0, gt=0, le=30)

    max_jobs_per_user: int = Field(default=3, ge=1)
    max_jobs_per_chat: int | None = Field(default=None, ge=1)
    #: Jobs at IMA at once, over every chat and every replica; more wait their turn.
    max_running_jobs: int | None = Field(default=None, ge=1)
    #: The credit caps below count per calendar hour, day or week (UTC).
    caps_window: Window = Window.DAY
    user_daily_credits: int | None = Field(default=None, ge=0)
    chat_daily_credits: int | None = Field(default=None, ge=0)
    banned_words: CommaList = ()
    #: In group chats, jobs above this many credits are made only after a tap.
    confirm_above_credits: int | None = Field(default=None, ge=0)

    #: Job leases between replicas sharing one database (core/leases.py).
    replica_id: str | None = None
    lease_seconds: float = Field(default=DEFAULT_LEASE_SECONDS, gt=0)

    def lease(self) -> Lease:
        return Lease(self.replica_id or default_replica_id(), self.lease_seconds)

    def llm(self) -> LLMConfig | None:
        """The understanding model, when it is configured."""
        if not (self.intent_llm_base_url and self.intent_llm_model and self.intent_llm_api_key):
            return None
        return LLMConfig(
            self.intent_llm_base_url,
            self.intent_llm_model,
            self.intent_llm_api_key.get_secret_value(),
            self.intent_llm_timeout,
        )

    def policy(self) -> Policy:
        return Policy(
            banned_words=self.banned_words,
            max_active_per_user=self.max_jobs_per_user,
            max_active_per_chat=self.max_jobs_per_chat,
            user_daily_credits=self.user_daily_credits,
            chat_daily_credits=self.chat_daily_credits,
            window=self.caps_window,
            max_running=self.max_running_jobs,
            confirm_above_credits=self.confirm_above_credits,
        )


class SettingsError(Exception):
    """Settings are missing or malformed; ``str()`` says which and how to fix them."""


def describe(error: ValidationError, model: type[BaseSettings]) -> str:
    """One line per problem, naming the environment variable, never echoing its value."""
    prefix = str(model.model_config.get("env_prefix") or "")
    lines = []
    for problem in error.errors():
        name = (prefix + "_".join(str(p) for p in problem["loc"] if isinstance(p, str))).upper()
        lines.append(f"{name}: {problem['msg']}")
    return "\n".join(lines)


S = TypeVar("S", bound=SettingsBase)


def load(model: type[S], **overrides: Any) -> S:
    """``model`` read from the environment (``overrides`` win), or :class:`SettingsError`."""
    try:
        return model(**overrides)
    except ValidationError as exc:
        raise SettingsError(describe(exc, model)) from None


def load_settings(**overrides: Any) -> Settings:
    return load(Settings, **overrides)
