"""Logging for the ``ima-bot`` process: text or one JSON object per line, secrets redacted.

Redaction happens on the final formatted line, so a secret is caught wherever it hides: in a
message, its arguments, an exception, or a URL with the API key in its query string.

Every line about a job says which (``job_id``, ``platform``, ``user``: :mod:`core.logcontext`),
whichever module writes it. Libraries that print what people wrote or credentials when asked
for details are held at a level where they don't, whatever ``LOG_LEVEL`` says (:data:`FLOORS`).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from core import logcontext
from core.ima.session import mask_key

# Attributes every LogRecord has; anything else came in through ``extra=`` and is worth keeping.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


#: The least level of libraries whose details are unsafe or too loud to log.
FLOORS = {
    # DEBUG: every statement with its parameters (prompts, interaction tokens).
    "aiosqlite": logging.INFO,
    # DEBUG: the handshake, with the Feishu long connection's URL (its access_key and ticket).
    "websockets": logging.INFO,
    # lark-oapi's INFO says "connected to <that URL>"; its DEBUG prints event payloads.
    "Lark": logging.WARNING,
    # DEBUG: gateway payloads (what people typed, interaction tokens).
    "discord": logging.INFO,
    # Whole request lines; the bot's own log says what matters.
    "aiohttp.access": logging.WARNING,
}


class ContextFilter(logging.Filter):
    """Adds the log context's fields (:mod:`core.logcontext`) to every record that passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in logcontext.current().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


class TextFormatter(logging.Formatter):
    """One line: time, level, logger, message, then the log context's fields as ``k=v``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        about = " ".join(
            f"{name}={value}"
            for name in logcontext.FIELDS
            if (value := getattr(record, name, None)) is not None
        )
        return f"{line} [{about}]" if about else line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class RedactingFormatter(logging.Formatter):
    """Wraps another formatter and masks every secret in what it produces."""

    def __init__(self, inner: logging.Formatter, secrets: Iterable[str]) -> None:
        super().__init__()
        self._inner = inner
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        line = self._inner.format(record)
        for secret in self._secrets:
            line = line.replace(secret, mask_key(secret))
        return line


def setup_logging(level: str, fmt: str, secrets: Iterable[str] = ()) -> None:
    inner: logging.Formatter = JsonFormatter() if fmt == "json" else TextFormatter()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(inner, secrets))
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name, floor in FLOORS.items():
        logging.getLogger(name).setLevel(max(floor, logging.getLevelName(level)))
    # lark-oapi gives its logger a handler of its own: lines would skip formatting and redaction.
    logging.getLogger("Lark").handlers.clear()
