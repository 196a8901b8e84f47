"""Business errors and the ``{"code", "message", "data"}`` envelope the IMA gateway answers with."""

from typing import Any

from aiohttp import web

# Codes the gateway also sends as the HTTP status; every other business code rides on HTTP 200.
_HTTP_STATUS_CODES = frozenset({401, 429, 500, 503})

_DEFAULT_MESSAGES: dict[int, str] = {
    400: "Invalid request",
    401: "unauthorized",
    403: "Forbidden",
    404: "Not found",
    429: "Too many requests",
    500: "Internal server error",
    503: "Model is temporarily unavailable",
    4008: "Insufficient points",
    4014: "Subscription required for this model",
    6006: "Credit does not match the product rule",
    6009: "No exact rule match found",
    6010: "Attribute ID does not match the calculated rule",
}


class ApiError(Exception):
    """A refusal; the simulator's middleware turns it into the response the real service sends."""

    def __init__(self, code: int, message: str | None = None) -> None:
        self.code = code
        self.message = message or _DEFAULT_MESSAGES.get(code, "error")
        super().__init__(f"{code} {self.message}")

    @property
    def http_status(self) -> int:
        """HTTP status of the JSON envelope carrying this error."""
        return self.code if self.code in _HTTP_STATUS_CODES else 200

    @property
    def raw_http_status(self) -> int:
        """HTTP status for the plain (non-envelope) storage routes, which know no business codes."""
        return self.code if self.code < 600 else 400

    def to_envelope(self) -> web.Response:
        return web.json_response(
            {"code": self.code, "message": self.message, "data": None}, status=self.http_status
        )


def success(data: Any) -> web.Response:
    return web.json_response({"code": 0, "message": "success", "data": data})
