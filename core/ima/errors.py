"""One error tree for everything that can go wrong talking to IMA.

Responses are classified exactly once, in :func:`classify_response`, where they come back from the
server. Code further in catches these types and never looks at codes or message strings. Every
class carries a locale key for the user-facing sentence (``locales/*.toml``) and keeps the
technical detail for logs only.
"""

from __future__ import annotations

from typing import Any, ClassVar


class IMAError(Exception):
    """Root of the tree. ``str(error)`` is the technical detail: for logs, never for users."""

    kind: ClassVar[str] = "unknown"
    locale_key: ClassVar[str] = "error.unknown"
    #: A poll (read-only) may be repeated after this error.
    transient: ClassVar[bool] = False
    #: Trying a different model is a sensible suggestion for the user.
    suggest_other_model: ClassVar[bool] = True
    #: When a create fails with this error, the server provably did not make (or charge) the
    #: task: its credits can be given back. Otherwise the outcome is unknown and the credits
    #: stay counted, because the API has no way to ask whether a create took effect.
    refused: bool = False

    def __init__(
        self, detail: str, *, code: int | str | None = None, http_status: int | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.http_status = http_status

    def log_fields(self) -> dict[str, Any]:
        """What a log line needs to explain the error (never contains secrets)."""
        return {
            "error": self.kind,
            "code": self.code,
            "http_status": self.http_status,
            "detail": self.detail,
        }


class AuthError(IMAError):
    kind = "auth"
    refused = True
    locale_key = "error.auth"
    suggest_other_model = False


class InsufficientCreditsError(IMAError):
    kind = "insufficient_credits"
    refused = True
    locale_key = "error.insufficient_credits"
    suggest_other_model = False


class SubscriptionRequiredError(IMAError):
    kind = "subscription"
    refused = True
    locale_key = "error.subscription"


class RuleMismatchError(IMAError):
    """The server computed a different credit rule or price (6006 / 6009 / 6010)."""

    kind = "rule_mismatch"
    refused = True
    locale_key = "error.rule_mismatch"


class CreditMismatchError(RuleMismatchError):
    kind = "credit_mismatch"
    locale_key = "error.credit_mismatch"


class BadRequestError(IMAError):
    kind = "bad_request"
    refused = True
    locale_key = "error.bad_request"


class RateLimitedError(IMAError):
    kind = "rate_limited"
    refused = True
    locale_key = "error.rate_limited"
    transient = True
    suggest_other_model = False

    def __init__(self, detail: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(detail, **kw)
        self.retry_after: float | None = retry_after


class ServerError(IMAError):
    kind = "server_error"
    locale_key = "error.server"
    transient = True


class ModelUnavailableError(IMAError):
    kind = "model_unavailable"
    refused = True
    locale_key = "error.model_unavailable"
    transient = True


class NetworkError(IMAError):
    """No usable answer came back.

    ``sent`` tells whether the request may have reached the server. A create is only retried when
    it provably did not (the connection was never made), because creates are not idempotent.
    """

    kind = "network"
    locale_key = "error.network"
    transient = True
    suggest_other_model = False

    def __init__(self, detail: str, *, sent: bool, **kw: Any) -> None:
        super().__init__(detail, **kw)
        self.sent = sent
        self.refused = not sent


class GenerationTimeoutError(IMAError):
    kind = "timeout"
    locale_key = "error.timeout"


class GenerationFailedError(IMAError):
    """The task says it failed (``status == "failed"``)."""

    kind = "generation_failed"
    locale_key = "error.generation_failed"


class MediaFailedError(GenerationFailedError):
    """A result could not be made (``resource_status == 2``): the spec's error table words
    this case apart from a failed status."""

    locale_key = "error.media_failed"


class ContentRejectedError(GenerationFailedError):
    """The prompt or image was refused by content moderation."""

    kind = "content_rejected"
    locale_key = "error.content_rejected"
    refused = True
    suggest_other_model = False


class ResourceDeletedError(IMAError):
    kind = "deleted"
    locale_key = "error.deleted"


class InvalidInputError(IMAError):
    """Something the user supplied cannot be used; subclasses say what."""

    kind = "invalid_input"
    refused = True
    locale_key = "error.invalid_input"
    suggest_other_model = False


class NotAnImageError(InvalidInputError):
    kind = "not_an_image"
    locale_key = "error.not_an_image"


class ImageTooLargeError(InvalidInputError):
    kind = "image_too_large"
    locale_key = "error.image_too_large"


class ImageUnreachableError(InvalidInputError):
    kind = "image_unreachable"
    locale_key = "error.image_unreachable"


class UnknownOutcomeError(IMAError):
    """A create that may or may not have taken effect (a lost answer, a 2xx without a task
    id): it may have been charged, so it is neither repeated nor given back."""

    kind = "unknown_outcome"
    locale_key = "error.unknown_outcome"
    suggest_other_model = False


class ModelNotFoundError(IMAError):
    kind = "model_not_found"
    refused = True
    locale_key = "error.model_not_found"


_MODERATION_WORDS = ("sensitive", "moderation", "policy", "violat", "敏感", "违规", "审核")


def classify_response(
    http_status: int, code: int | None, message: str, *, retry_after: float | None = None
) -> IMAError | None:
    """Turn an HTTP status and IMA envelope into an error, or ``None`` for success."""
    if http_status < 400 and code in (0, 200):
        return None
    detail = f"HTTP {http_status}, code {code}: {message}"[:500]
    kw: dict[str, Any] = {"code": code, "http_status": http_status}
    lowered = message.lower()
    if http_status == 401 or code in (401, 403):
        return AuthError(detail, **kw)
    if http_status == 429 or code == 429:
        return RateLimitedError(detail, retry_after=retry_after, **kw)
    if http_status == 503 or code == 503:
        return ModelUnavailableError(detail, **kw)
    if http_status >= 500 or code in (500, 502, 504):
        return ServerError(detail, **kw)
    if code == 4008 or "insufficient points" in lowered:
        return InsufficientCreditsError(detail, **kw)
    if code == 4014:
        return SubscriptionRequiredError(detail, **kw)
    if code == 6006:
        return CreditMismatchError(detail, **kw)
    if code in (6009, 6010):
        return RuleMismatchError(detail, **kw)
    if any(word in lowered for word in _MODERATION_WORDS):
        return ContentRejectedError(detail, **kw)
    return BadRequestError(detail, **kw)


def classify_media_failure(error_msg: str, *, resource_failed: bool) -> GenerationFailedError:
    """A task whose media reported failure (``resource_failed``: by ``resource_status == 2``,
    else by its status): moderation gets its own message."""
    detail = error_msg[:500] or "task failed without details"
    lowered = error_msg.lower()
    if any(word in lowered for word in _MODERATION_WORDS):
        return ContentRejectedError(detail)
    return MediaFailedError(detail) if resource_failed else GenerationFailedError(detail)
