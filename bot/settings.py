"""The bot process's own settings: its HTTP server, its logs and its database."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar, Literal

from pydantic import Field

from core.access import Access, AccessKind
from core.settings import Secret, SettingsBase


class RunSettings(SettingsBase):
    #: SQLite file (a path, or sqlite:///path).
    database_url: str = "ima-bot.db"
    #: The webhook server (Feishu's events) and the health checks /livez, /readyz, /healthz.
    http_host: str = "0.0.0.0"  # noqa: S104 - a container's server must listen on all interfaces
    http_port: int = Field(default=8080, ge=0, le=65535)
    #: /metrics, unauthenticated: private by default. The same port as HTTP_PORT serves it on
    #: the webhook's server instead (reachable wherever that is).
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9464, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    #: The operator console at /admin on the HTTP port; off while this is not set.
    admin_password: Secret = None
    #: Whether the console's session cookie is sent over https only (set behind a TLS proxy).
    admin_secure_cookie: bool = False


class PlatformSettings(SettingsBase):
    """A chat platform's settings: its adapter runs when they are :attr:`configured`."""

    #: What an id of each allowlist looks like there (checked when an operator adds one).
    access_ids: ClassVar[Mapping[AccessKind, re.Pattern[str]]]

    @property
    def configured(self) -> bool:
        raise NotImplementedError

    def access(self) -> Access:
        """Where these settings let the bot answer, and who no limit applies to."""
        raise NotImplementedError
