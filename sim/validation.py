"""Checks of a ``/tasks/create`` body, as strict as the real gateway (or stricter where unsure)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeGuard
from urllib.parse import urlsplit

from sim.catalog import Catalog, Leaf, Rule
from sim.errors import ApiError
from sim.task_types import TASK_TYPES

_INVALID_ATTRIBUTE = "Invalid product attribute"
_MAX_N = 4


@dataclass(frozen=True)
class ValidCreate:
    """A create request that passed every check."""

    task_type: str
    leaf: Leaf
    rule: Rule
    n: int
    prompt: str


def validate_create(
    body: Any, catalog: Catalog, image_url_ok: Callable[[str], bool]
) -> ValidCreate:
    """Raise ApiError with the code the gateway would answer for the first problem found.

    ``image_url_ok`` says whether an input image URL can be fetched (the simulator's own CDN
    only serves files that were uploaded).
    """
    if not isinstance(body, dict):
        raise ApiError(400, "request body must be a JSON object")
    task_type = body.get("task_type")
    if task_type not in TASK_TYPES:
        raise ApiError(400, f"invalid task_type {task_type!r}")
    entries = body.get("parameters")
    if not isinstance(entries, list) or len(entries) != 1 or not isinstance(entries[0], dict):
        raise ApiError(400, "parameters must hold exactly one entry")
    entry: dict[str, Any] = entries[0]
    if entry.get("category") != task_type:
        raise ApiError(400, "parameters[0].category must equal task_type")
    if entry.get("app") not in ("ima", "webAgent") or entry.get("platform") != "web":
        raise ApiError(400, "invalid app or platform")

    leaf = _find_leaf(catalog, task_type, entry)
    attribute_id = entry.get("attribute_id")
    rule = leaf.rule(attribute_id) if _is_int(attribute_id) else None
    if rule is None:
        raise ApiError(400, _INVALID_ATTRIBUTE)
    if not _same_int(entry.get("credit"), rule.points):
        raise ApiError(6006)

    inner = entry.get("parameters")
    if not isinstance(inner, dict):
        raise ApiError(400, "parameters[0].parameters must be an object")
    cast = inner.get("cast")
    if not (
        isinstance(cast, dict)
        and _same_int(cast.get("points"), rule.points)
        and _same_int(cast.get("attribute_id"), rule.attribute_id)
    ):
        raise ApiError(400, "cast must be {points, attribute_id} of the chosen rule")
    prompt = inner.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ApiError(400, "prompt is required")
    n = inner.get("n")
    if not _is_int(n) or not 1 <= n <= _MAX_N:
        raise ApiError(400, f"n must be an integer from 1 to {_MAX_N}")
    if not rule.matches(inner):
        if any(other.matches(inner) for other in leaf.rules if other is not rule):
            raise ApiError(6010)
        raise ApiError(6009)

    images = _images(task_type, body.get("src_img_url", []), inner.get("input_images", []))
    for url in images:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ApiError(400, "input images must be public http(s) URLs")
        if not image_url_ok(url):
            raise ApiError(400, f"input image not found: {url}")
    return ValidCreate(task_type, leaf, rule, n, prompt)


def _find_leaf(catalog: Catalog, task_type: str, entry: dict[str, Any]) -> Leaf:
    model_id, version = entry.get("model_id"), entry.get("model_version")
    leaf = None
    if isinstance(model_id, str) and isinstance(version, str):
        leaf = catalog.find_leaf(task_type, model_id, version)
    if leaf is None:
        raise ApiError(400, _INVALID_ATTRIBUTE)
    return leaf


def _images(task_type: str, src_img_url: Any, input_images: Any) -> list[str]:
    """The input image list, which the body carries twice (top level and inner)."""
    if not (_is_str_list(src_img_url) and _is_str_list(input_images)):
        raise ApiError(400, "src_img_url and input_images must be lists of URLs")
    if src_img_url != input_images:
        raise ApiError(400, "src_img_url and input_images must list the same images")
    spec = TASK_TYPES[task_type]
    low, high = spec.min_images, spec.max_images
    if len(src_img_url) < low or (high is not None and len(src_img_url) > high):
        wanted = f"{low}" if low == high else f"at least {low}"
        raise ApiError(400, f"{task_type} takes {wanted} input images")
    return list(src_img_url)


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _same_int(value: Any, expected: int) -> bool:
    return _is_int(value) and value == expected


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)
