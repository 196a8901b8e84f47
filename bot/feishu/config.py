"""``FEISHU_*`` settings, read once from the environment (and ``.env``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import SettingsConfigDict

from bot.settings import PlatformSettings
from core.access import Access, AccessKind
from core.settings import IdSet, Secret

FEISHU_DOMAIN = "https://open.feishu.cn"
LARK_DOMAIN = "https://open.larksuite.com"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class FeishuSettings(PlatformSettings):
    model_config = SettingsConfigDict(env_prefix="FEISHU_")
    #: Group chats are ``oc_…`` ids, people their ``ou_…`` open ids.
    access_ids: ClassVar[Mapping[AccessKind, re.Pattern[str]]] = {
        AccessKind.PLACE: re.compile(r"oc_[0-9A-Za-z]{1,64}"),
        AccessKind.ADMIN: re.compile(r"ou_[0-9A-Za-z]{1,64}"),
    }

    app_id: str | None = None
    app_secret: Secret = Field(default=None, validate_default=True)
    mode: Literal["ws", "webhook"] = "ws"
    domain: str = FEISHU_DOMAIN
    #: Sent in every event's header; checked on webhook deliveries.
    verification_token: Secret = Field(default=None, validate_default=True)
    #: Encrypts webhook deliveries and keys their signature; without it neither can be checked.
    encrypt_key: Secret = None
    #: Group chats the bot answers in (empty: everywhere), and who no limit applies to.
    allowed_chats: IdSet = frozenset()
    admin_ids: IdSet = frozenset()

    @field_validator("app_secret")
    @classmethod
    def _secret_with_id(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None and info.data.get("app_id"):
            raise ValueError("is needed together with FEISHU_APP_ID")
        return value

    @field_validator("verification_token")
    @classmethod
    def _token_for_webhooks(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None and info.data.get("app_id") and info.data.get("mode") == "webhook":
            raise ValueError("is needed with FEISHU_MODE=webhook")
        return value

    @field_validator("domain")
    @classmethod
    def _origin(cls, value: str) -> str:
        """Same rule as lark-oapi's client: an https origin, plain http only for loopback."""
        value = value.rstrip("/")
        parts = urlsplit(value)
        loopback = parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK
        if parts.scheme != "https" and not loopback:
            raise ValueError(f"must start with https:// (e.g. {FEISHU_DOMAIN} or {LARK_DOMAIN})")
        if not parts.hostname or parts.path or parts.query or parts.fragment or "@" in value:
            raise ValueError("must be a bare origin such as https://open.feishu.cn")
        return value

    @property
    def configured(self) -> bool:
        return bool(self.app_id and self.app_secret)

    @property
    def secret(self) -> str:
        return self.app_secret.get_secret_value() if self.app_secret else ""

    @property
    def encryption(self) -> str:
        return self.encrypt_key.get_secret_value() if self.encrypt_key else ""

    @property
    def verification(self) -> str:
        return self.verification_token.get_secret_value() if self.verification_token else ""

    def access(self) -> Access:
        return Access(self.allowed_chats, self.admin_ids)
