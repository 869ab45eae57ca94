"""Thumbnail rendering (Pillow, no ORM): orientation applied, EXIF and every other metadata dropped,
each size fitted within its box with the aspect ratio kept (as the old shop did), never enlarged.

Each size is written as WebP; the smallest also as JPEG, for the few browsers and mail clients that
don't show WebP (the `<picture>` fallback).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps

# (name, box width, box height); 268x200 is the old shop's listing size, the others 2x and 4x of it.
SIZES: tuple[tuple[str, int, int], ...] = (("268x200", 268, 200), ("536x400", 536, 400), ("1072x800", 1072, 800))
SMALL = SIZES[0][0]
JPEG_FALLBACK_SIZES = frozenset({SMALL})
WEBP_QUALITY = 80
JPEG_QUALITY = 85


@dataclass(frozen=True)
class Rendition:
    size: str
    kind: str  # "webp" or "jpeg"
    width: int
    height: int
    content: bytes


def upright(image: Image.Image) -> Image.Image:
    """The image turned the way the camera's EXIF orientation says, as plain RGB(A) pixels."""
    turned = ImageOps.exif_transpose(image)
    mode = "RGBA" if turned.mode in ("RGBA", "LA", "PA") or "transparency" in turned.info else "RGB"
    return turned.convert(mode)


def fit_within(width: int, height: int, box_width: int, box_height: int) -> tuple[int, int]:
    """The largest size with the image's aspect ratio inside the box, never larger than the image."""
    scale = min(box_width / width, box_height / height, 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))


def render(image: Image.Image) -> list[Rendition]:
    """Every thumbnail of an upright image. Nothing of the source's metadata (EXIF, XMP, ICC comments)
    is carried over: the encoders are given pixels only."""
    renditions = []
    for name, box_width, box_height in SIZES:
        size = fit_within(image.width, image.height, box_width, box_height)
        resized = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0) if size != image.size else image
        renditions.append(Rendition(name, "webp", *size, encode(resized, "webp")))
        if name in JPEG_FALLBACK_SIZES:
            renditions.append(Rendition(name, "jpeg", *size, encode(resized, "jpeg")))
    return renditions


def encode(image: Image.Image, kind: str) -> bytes:
    """An upright image as a new `jpeg`, `png` or `webp` file: its pixels and nothing else of the source."""
    if kind == "jpeg":
        return _encode(_on_white(image), "JPEG", quality=JPEG_QUALITY, optimize=True)
    if kind == "webp":
        return _encode(image, "WEBP", quality=WEBP_QUALITY, method=4)
    if kind == "png":
        return _encode(image, "PNG", optimize=True)
    raise ValueError(f"not an image kind we write: {kind!r}")


def _on_white(image: Image.Image) -> Image.Image:
    if image.mode != "RGBA":
        return image.convert("RGB")
    background = Image.new("RGB", image.size, (255, 255, 255))
    background.paste(image, mask=image.getchannel("A"))
    return background


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    # A fresh image from the pixels alone: no `info` (EXIF, XMP, comments) can reach the encoder.
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    buffer = io.BytesIO()
    clean.save(buffer, fmt, **options)
    return buffer.getvalue()
