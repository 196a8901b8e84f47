"""Feishu's rules for message content, cards and uploads.

Each violation raises the :class:`~tests.fakes.feishu.errors.FeishuError` Feishu answers with:
``230001`` for a malformed body, ``230025`` for content over the size limit, ``230055`` for a
media message whose file was uploaded as the wrong type, ``2340xx`` for uploads.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tests.fakes.feishu.errors import (
    CONTENT_TOO_LONG,
    FILE_TYPE_MISMATCH,
    FeishuError,
    invalid,
)
from tests.fakes.feishu.records import UploadedFile, UploadedImage

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_FILE_BYTES = 30 * 1024 * 1024
MAX_CARD_OR_POST_BYTES = 30 * 1024
MAX_TEXT_BYTES = 150 * 1024

FILE_TYPES = frozenset({"opus", "mp4", "pdf", "doc", "xls", "ppt", "stream"})
#: Message types that need a file uploaded as one particular ``file_type``.
MEDIA_FILE_TYPE = {"media": "mp4", "audio": "opus"}

_IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)


def image_mime(data: bytes) -> str | None:
    """MIME type from the magic bytes, ``None`` when Feishu would not recognise an image."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    for magic, mime in _IMAGE_SIGNATURES:
        if data.startswith(magic):
            return mime
    return None


def check_content(
    msg_type: str,
    content: str,
    *,
    images: Mapping[str, UploadedImage],
    files: Mapping[str, UploadedFile],
) -> None:
    """A send or reply body: ``content`` is a JSON string whose shape depends on ``msg_type``;
    images and files must have been uploaded by this app first."""
    try:
        parsed = json.loads(content)
    except ValueError:
        raise invalid("content is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise invalid("content must be a JSON object")
    size = len(content.encode())
    if msg_type == "text":
        if not isinstance(parsed.get("text"), str):
            raise invalid("text content needs a string 'text'")
        if size > MAX_TEXT_BYTES:
            raise _too_long()
    elif msg_type == "post":
        _check_post(parsed)
        if size > MAX_CARD_OR_POST_BYTES:
            raise _too_long()
    elif msg_type == "interactive":
        check_card(content)
    elif msg_type == "image":
        if parsed.get("image_key") not in images:
            raise invalid("invalid image_key")
    elif msg_type in ("media", "audio", "file"):
        uploaded = files.get(parsed.get("file_key", ""))
        if uploaded is None:
            raise invalid("invalid file_key")
        wanted = MEDIA_FILE_TYPE.get(msg_type)
        if wanted is not None and uploaded.file_type != wanted:
            raise FeishuError(
                400,
                FILE_TYPE_MISMATCH,
                f"The type of file upload does not match the type of message being sent: "
                f"{msg_type} needs a file uploaded as {wanted}, got {uploaded.file_type}.",
            )
    else:
        raise invalid(f"unsupported msg_type {msg_type}")


def check_card(content: str) -> dict[str, Any]:
    """A card as sent or patched: a JSON object of at most 30 KB. Returns it decoded."""
    try:
        card = json.loads(content)
    except ValueError:
        raise invalid("card content is not valid JSON") from None
    if not isinstance(card, dict):
        raise invalid("card content must be a JSON object")
    if len(content.encode()) > MAX_CARD_OR_POST_BYTES:
        raise FeishuError(400, CONTENT_TOO_LONG, "The card content exceeds the 30KB limit.")
    return card


def is_shared_card(card: dict[str, Any]) -> bool:
    """Only shared cards can be patched. Card JSON 2.0 is always shared (update_multi defaults to
    true there); older cards must say ``config.update_multi: true``."""
    config = card.get("config")
    update_multi = config.get("update_multi") if isinstance(config, dict) else None
    if card.get("schema") == "2.0":
        return update_multi is not False
    return update_multi is True


def check_upload_size(data: bytes, limit: int) -> None:
    if not data:
        raise FeishuError(400, 234010, "File's size can't be 0.")
    if len(data) > limit:
        raise FeishuError(400, 234006, f"The file size exceeds the limit of {limit} bytes.")


def _check_post(post: dict[str, Any]) -> None:
    """Sent posts are ``{"zh_cn": {"title": ..., "content": [[{"tag": ...}, ...], ...]}, ...}``."""
    if not post:
        raise invalid("post content needs at least one locale")
    for locale in post.values():
        lines = locale.get("content") if isinstance(locale, dict) else None
        if not isinstance(lines, list) or not all(
            isinstance(line, list) and all(isinstance(el, dict) and "tag" in el for el in line)
            for line in lines
        ):
            raise invalid("post content must be a list of lines of {tag: ...} elements")


def _too_long() -> FeishuError:
    return FeishuError(400, CONTENT_TOO_LONG, "The message content exceeds the length limit.")
