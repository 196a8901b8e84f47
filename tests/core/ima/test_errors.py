"""Each server answer maps to exactly one error class with a message in both locales."""

from __future__ import annotations

import pytest

from core.i18n import Translator
from core.ima import errors
from core.ima.errors import IMAError, classify_response


@pytest.mark.parametrize(
    ("status", "code", "message", "error"),
    [
        (401, 401, "unauthorized", errors.AuthError),
        (200, 4008, "Insufficient points", errors.InsufficientCreditsError),
        (200, 4014, "subscription required", errors.SubscriptionRequiredError),
        (200, 6006, "credit mismatch", errors.CreditMismatchError),
        (200, 6009, "No exact rule match found", errors.RuleMismatchError),
        (200, 6010, "Attribute ID does not match the calculated rule", errors.RuleMismatchError),
        (200, 400, "Invalid product attribute", errors.BadRequestError),
        (429, 429, "too many", errors.RateLimitedError),
        (500, 500, "boom", errors.ServerError),
        (502, None, "bad gateway", errors.ServerError),
        (503, 503, "model unavailable", errors.ModelUnavailableError),
        (200, 400, "prompt violates content policy", errors.ContentRejectedError),
    ],
)
def test_classify(status: int, code: int | None, message: str, error: type[IMAError]) -> None:
    assert type(classify_response(status, code, message)) is error


@pytest.mark.parametrize("code", [0, 200])
def test_success(code: int) -> None:
    assert classify_response(200, code, "ok") is None


def _all_error_classes() -> list[type[IMAError]]:
    found: list[type[IMAError]] = []
    todo: list[type[IMAError]] = [IMAError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


@pytest.mark.parametrize("cls", _all_error_classes(), ids=lambda c: c.__name__)
def test_every_error_has_a_message_in_both_locales(cls: type[IMAError]) -> None:
    translator = Translator.load()
    for locale in ("zh", "en"):
        assert translator.t(locale, cls.locale_key)
