from __future__ import annotations

import pytest

from core.ima.upload import sniff_image


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n....", ("image/png", "png")),
        (b"\xff\xd8\xff\xe0..JFIF", ("image/jpeg", "jpeg")),
        (b"GIF89a...", ("image/gif", "gif")),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", ("image/webp", "webp")),
        (b"%PDF-1.7", None),
        (b"\x00\x00\x00\x18ftypmp42", None),
        (b"", None),
    ],
)
def test_sniff(data: bytes, expected: tuple[str, str] | None) -> None:
    assert sniff_image(data) == expected
