"""Feishu's error envelope ``{"code": ..., "msg": ...}`` and the codes the fake answers with."""

from __future__ import annotations

from aiohttp import web

INVALID_PARAMETER = 230001
MESSAGE_RECALLED = 230011
"""Reply, patch or download on a message someone recalled."""
RATE_LIMITED = 230020
CONTENT_TOO_LONG = 230025
FILE_TYPE_MISMATCH = 230055
MESSAGE_DELETED = 230110
"""Reply, patch or download on a deleted message."""
FIELD_VALIDATION = 99992402
GATEWAY_RATE_LIMITED = 99991400


class FeishuError(Exception):
    """Raised by request handlers; the middleware answers it in Feishu's envelope."""

    def __init__(
        self, status: int, code: int, msg: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(msg)
        self.status = status
        self.code = code
        self.msg = msg
        self.headers = headers or {}

    def to_response(self) -> web.Response:
        response = web.json_response({"code": self.code, "msg": self.msg}, status=self.status)
        response.headers.update(self.headers)
        return response


def invalid(detail: str) -> FeishuError:
    return FeishuError(
        400,
        INVALID_PARAMETER,
        f"Your request contains an invalid request parameter, ext={detail}",
    )


def field_error(detail: str) -> FeishuError:
    return FeishuError(400, FIELD_VALIDATION, f"field validation failed: {detail}")
