"""Discord-shaped error responses.

discord.py decodes a body as JSON only when ``Content-Type`` is exactly ``application/json``
(aiohttp's ``json_response`` appends ``; charset=utf-8``), so every JSON answer goes through
:func:`json_response`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

JSON = dict[str, Any]


def json_response(
    data: object, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON response whose Content-Type carries no charset parameter."""
    response = web.Response(
        body=json.dumps(data).encode(), status=status, content_type="application/json"
    )
    if headers:
        response.headers.update(headers)
    return response


@dataclass(frozen=True)
class ErrorSpec:
    """One of Discord's documented (status, JSON error code, message) triples."""

    status: int
    code: int
    message: str


UNAUTHORIZED = ErrorSpec(401, 0, "401: Unauthorized")
NOT_FOUND = ErrorSpec(404, 0, "404: Not Found")
METHOD_NOT_ALLOWED = ErrorSpec(405, 0, "405: Method Not Allowed")
UNKNOWN_CHANNEL = ErrorSpec(404, 10003, "Unknown Channel")
UNKNOWN_MESSAGE = ErrorSpec(404, 10008, "Unknown Message")
UNKNOWN_USER = ErrorSpec(404, 10013, "Unknown User")
UNKNOWN_WEBHOOK = ErrorSpec(404, 10015, "Unknown Webhook")
UNKNOWN_INTERACTION = ErrorSpec(404, 10062, "Unknown interaction")
FILE_TOO_LARGE = ErrorSpec(413, 40005, "Request entity too large")
ALREADY_ACKNOWLEDGED = ErrorSpec(400, 40060, "Interaction has already been acknowledged.")
MISSING_ACCESS = ErrorSpec(403, 50001, "Missing Access")
NOT_MESSAGE_AUTHOR = ErrorSpec(403, 50005, "Cannot edit a message authored by another user")
EMPTY_MESSAGE = ErrorSpec(400, 50006, "Cannot send an empty message")
CANNOT_DM_USER = ErrorSpec(403, 50007, "Cannot send messages to this user")
MISSING_PERMISSIONS = ErrorSpec(403, 50013, "Missing Permissions")
INVALID_WEBHOOK_TOKEN = ErrorSpec(401, 50027, "Invalid Webhook Token")
INVALID_RECIPIENT = ErrorSpec(400, 50033, "Invalid Recipient(s)")
INVALID_FORM_BODY = ErrorSpec(400, 50035, "Invalid Form Body")
INVALID_JSON = ErrorSpec(400, 50109, "The request body contains invalid JSON.")


class DiscordAPIError(Exception):
    """Raised by request handlers; the middleware turns it into Discord's JSON error body."""

    def __init__(
        self,
        spec: ErrorSpec,
        *,
        errors: JSON | None = None,
        headers: Mapping[str, str] | None = None,
        body: JSON | None = None,
    ) -> None:
        super().__init__(f"{spec.status} {spec.code} {spec.message}")
        self.spec = spec
        self.errors = errors
        self.headers = dict(headers or {})
        self.body = body

    def to_response(self) -> web.Response:
        body: JSON = (
            self.body
            if self.body is not None
            else {"message": self.spec.message, "code": self.spec.code}
        )
        if self.errors:
            body["errors"] = self.errors
        return json_response(body, status=self.spec.status, headers=self.headers)


class FormErrors:
    """Collects field errors in Discord's nested ``{"field": {"_errors": [...]}}`` shape.

    discord.py flattens this shape into ``HTTPException.text`` and ``CommandSyncFailure``
    maps the top-level indexes back to command names, so the shape matters.
    """

    def __init__(self) -> None:
        self.tree: JSON = {}

    def add(self, path: Sequence[str | int], code: str, message: str) -> None:
        node = self.tree
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def too_long(self, path: Sequence[str | int], limit: int) -> None:
        self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def raise_if_any(self) -> None:
        if self.tree:
            raise DiscordAPIError(INVALID_FORM_BODY, errors=self.tree)
