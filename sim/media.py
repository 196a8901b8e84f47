"""Result files: a PNG drawn from the prompt, and small recorded MP4 and MP3 samples.

The samples in ``assets/`` were made once with ffmpeg; nothing needs ffmpeg at run time::

    ffmpeg -f lavfi -i testsrc2=size=320x180:rate=12:duration=2 \\
        -f lavfi -i sine=frequency=440:duration=2:sample_rate=22050 -c:v libx264 -preset veryslow \\
        -crf 35 -pix_fmt yuv420p -c:a aac -b:a 32k -ac 1 -shortest -movflags +faststart sample.mp4
    ffmpeg -f lavfi -i sine=frequency=523:duration=3:sample_rate=22050 -af volume=0.5 \\
        -c:a libmp3lame -b:a 32k -ac 1 sample.mp3
"""

import functools
import hashlib
import math
import struct
import zlib
from dataclasses import dataclass
from importlib import resources

from sim.task_types import MediaKind


@dataclass(frozen=True)
class MediaSpec:
    """What the simulator's result files of one kind look like."""

    extension: str
    content_type: str
    width: int
    height: int
    seconds: int | None
    #: How long a generation takes (seconds) for leaves without an ``EET`` tag.
    generation: tuple[float, float]


SPECS: dict[MediaKind, MediaSpec] = {
    MediaKind.IMAGE: MediaSpec("png", "image/png", 256, 256, None, (20, 60)),
    MediaKind.VIDEO: MediaSpec("mp4", "video/mp4", 320, 180, 2, (60, 180)),
    MediaKind.MUSIC: MediaSpec("mp3", "audio/mpeg", 0, 0, 3, (10, 45)),
}

COVER_CONTENT_TYPE = "image/png"


def result_bytes(kind: MediaKind, text: str) -> bytes:
    """The file behind a result URL; ``text`` (prompt and media index) varies the images."""
    spec = SPECS[kind]
    if kind is MediaKind.IMAGE:
        return render_png(text, spec.width, spec.height)
    return _asset(f"sample.{spec.extension}")


def cover_bytes(text: str) -> bytes:
    """A first-frame thumbnail for a video result."""
    spec = SPECS[MediaKind.VIDEO]
    return render_png(text, spec.width, spec.height)


@functools.lru_cache(maxsize=128)
def render_png(text: str, width: int, height: int) -> bytes:
    """An RGB PNG: a diagonal gradient with a disc, all colours and the disc's place from a hash.

    Rows are slices of one precomputed diagonal strip, so drawing costs a few slices per row.
    """
    digest = hashlib.sha256(text.encode()).digest()
    start, end, disc = digest[0:3], digest[3:6], bytes(digest[6:9])
    length = width + height - 1
    strip = bytearray()
    for i in range(length):
        t = i / max(length - 1, 1)
        strip += bytes(round(a + (b - a) * t) for a, b in zip(start, end, strict=True))
    cx, cy = digest[9] / 255 * width, digest[10] / 255 * height
    radius = min(width, height) * (0.15 + digest[11] / 255 * 0.25)

    raw = bytearray()
    for y in range(height):
        row = bytearray(strip[3 * y : 3 * (y + width)])
        dy = y + 0.5 - cy
        if abs(dy) < radius:
            half = math.sqrt(radius * radius - dy * dy)
            x0, x1 = max(0, math.ceil(cx - half)), min(width, math.floor(cx + half) + 1)
            if x1 > x0:
                row[3 * x0 : 3 * x1] = disc * (x1 - x0)
        raw += b"\x00" + row  # filter type 0 (None) for each scanline

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(bytes(raw), 6))
        + _png_chunk(b"IEND", b"")
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@functools.cache
def _asset(name: str) -> bytes:
    return resources.files("sim").joinpath("assets", name).read_bytes()
