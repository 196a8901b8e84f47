"""Turning user images into URLs IMA accepts: https passes through, everything else is uploaded.

The content type comes from the bytes, never from a file name or a header a user controls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import yarl

from core.ima.errors import ImageTooLargeError, ImageUnreachableError, NotAnImageError
from core.ima.session import IMASession

MAX_IMAGE_BYTES = 20 * 1024 * 1024
#: Redirects followed by :func:`read_limited` (each one checked when hosts are given).
MAX_REDIRECTS = 3

ImageSource = str | Path | bytes

_SIGNATURES: tuple[tuple[bytes, int, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", "png"),
    (b"\xff\xd8\xff", 0, "image/jpeg", "jpeg"),
    (b"GIF87a", 0, "image/gif", "gif"),
    (b"GIF89a", 0, "image/gif", "gif"),
    (b"BM", 0, "image/bmp", "bmp"),
)


def sniff_image(data: bytes) -> tuple[str, str] | None:
    """``(content_type, suffix)`` of an image IMA can read, from its magic bytes; else None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    for magic, offset, content_type, suffix in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return content_type, suffix
    return None


async def read_limited(
    http: aiohttp.ClientSession, url: str, max_bytes: int, *, hosts: Collection[str] | None = None
) -> bytes:
    """Download ``url`` but never more than ``max_bytes`` (the header may lie or be absent).

    ``hosts``: the only hosts the file may come from, redirects included — for a URL someone
    else wrote (a chat attachment), so that it never makes the bot ask anywhere else."""
    try:
        for _ in range(MAX_REDIRECTS + 1):
            if hosts is not None and urlsplit(url).hostname not in hosts:
                raise ImageUnreachableError("the file is not on the platform's file hosts")
            timeout = aiohttp.ClientTimeout(total=60)
            async with http.get(url, timeout=timeout, allow_redirects=hosts is None) as resp:
                location = resp.headers.get("Location") if 300 <= resp.status < 400 else None
                if hosts is not None and location is not None:
                    url = str(resp.url.join(yarl.URL(location)))
                    continue  # followed by hand: its host is checked first
                if resp.status != 200:
                    raise ImageUnreachableError(f"image download answered HTTP {resp.status}")
                if (resp.content_length or 0) > max_bytes:
                    raise ImageTooLargeError(f"image is {resp.content_length} bytes")
                chunks: list[bytes] = []
                size = 0
                async for chunk in resp.content.iter_chunked(64 * 1024):
                    size += len(chunk)
                    if size > max_bytes:
                        raise ImageTooLargeError(f"image is over {max_bytes} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)
        raise ImageUnreachableError("too many redirects")
    except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
        raise ImageUnreachableError(f"image download failed: {type(exc).__name__}") from None


async def upload_image(
    session: IMASession, data: bytes, *, max_bytes: int = MAX_IMAGE_BYTES
) -> str:
    """Upload image bytes through the presigned-URL flow and return the CDN URL (``fdl``)."""
    if len(data) > max_bytes:
        raise ImageTooLargeError(f"image is {len(data)} bytes, limit {max_bytes}")
    sniffed = sniff_image(data)
    if sniffed is None:
        raise NotAnImageError("input is not a PNG, JPEG, GIF, WebP or BMP image")
    content_type, suffix = sniffed
    ful, fdl = await session.upload_token(
        suffix=suffix, content_type=content_type, file_type="picture"
    )
    await session.put_bytes(ful, data, content_type)
    return fdl


def read_file(path: Path, max_bytes: int = MAX_IMAGE_BYTES) -> bytes:
    """A local image's bytes (blocking: run it in a thread), refused above ``max_bytes``."""
    try:
        if path.stat().st_size > max_bytes:
            raise ImageTooLargeError(f"{path.name} is over {max_bytes} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise ImageUnreachableError(f"cannot read local image: {exc.strerror}") from None


async def prepare_image(
    session: IMASession, source: ImageSource, *, max_bytes: int = MAX_IMAGE_BYTES
) -> str:
    """A URL for ``source``: https URLs as they are; http URLs, files and bytes uploaded."""
    if isinstance(source, str) and source.startswith("https://"):
        return source
    if isinstance(source, str) and source.startswith("http://"):
        data = await read_limited(session.http, source, max_bytes)
    elif isinstance(source, bytes):
        data = source
    else:
        data = await asyncio.to_thread(read_file, Path(source), max_bytes)
    return await upload_image(session, data, max_bytes=max_bytes)
