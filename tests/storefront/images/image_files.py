"""Image files for the image tests, made in memory: photos with EXIF (orientation, GPS), a forged
decompression bomb, a truncated JPEG and things that are not images."""

from __future__ import annotations

import io
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

EXIF_ORIENTATION = 0x0112
EXIF_GPS_IFD = 0x8825
EXIF_MAKE = 0x010F


def photo_bytes(
    size: tuple[int, int] = (1600, 1200),
    *,
    colour: tuple[int, int, int] = (200, 30, 30),
    fmt: str = "JPEG",
    orientation: int | None = None,
    gps: bool = True,
) -> bytes:
    """A photo of one colour with a darker band, carrying EXIF (camera make, GPS, orientation)."""
    image = Image.new("RGB", size, colour)
    band = tuple(max(0, c - 80) for c in colour)
    image.paste(Image.new("RGB", (size[0], max(1, size[1] // 10)), band), (0, 0))
    exif = Image.Exif()
    exif[EXIF_MAKE] = "LocalBazaarCam"
    if orientation:
        exif[EXIF_ORIENTATION] = orientation
    if gps:
        exif[EXIF_GPS_IFD] = {1: "N", 2: (53.0, 44.0, 30.0), 3: "W", 4: (2.0, 0.0, 50.0)}
    buffer = io.BytesIO()
    options = {"exif": exif.tobytes()} if fmt in ("JPEG", "WEBP", "PNG") else {}
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def upload(content: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(width: int = 60_000, height: int = 60_000) -> bytes:
    """A few hundred bytes claiming 3.6 billion pixels: decoding it would take gigabytes."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def truncated_jpeg() -> bytes:
    whole = photo_bytes((800, 600), gps=False)
    return whole[: len(whole) // 2]


def gif_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (0, 0, 255)).save(buffer, "GIF")
    return buffer.getvalue()


def exif_of(content: bytes) -> dict[int, object]:
    with Image.open(io.BytesIO(content)) as image:
        return dict(image.getexif())


def size_of(content: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(content)) as image:
        return image.size
