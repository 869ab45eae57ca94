"""Is this upload an image we accept? The real format is sniffed from the bytes (never the name or the
Content-Type), the size and pixel count are bounded, and the whole file is decoded once so that a
truncated or corrupt file is refused at upload rather than failing later in the worker."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import IO

from PIL import Image, UnidentifiedImageError

# Pillow's format names -> ours. Anything else (GIF, TIFF, BMP, SVG, HEIC...) is refused.
ACCEPTED_FORMATS = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp"}
CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
EXTENSIONS = {"jpeg": "jpg", "png": "png", "webp": "webp"}
# The only types stored media is ever served as, by the extension of its (server-made) name; `jpeg` is
# in old seller photos' names, kept from the client's.
SERVED_TYPES = {**{EXTENSIONS[kind]: CONTENT_TYPES[kind] for kind in CONTENT_TYPES}, "jpeg": "image/jpeg"}


class ImageRejected(ValueError):
    """The file is not an image we accept; the message says why, in words a merchant understands."""


@dataclass(frozen=True)
class ImageFacts:
    format: str
    width: int
    height: int
    byte_size: int


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


def inspect_image(stream: IO[bytes], *, byte_size: int, max_bytes: int, max_pixels: int) -> ImageFacts:
    """Check an uploaded image and return what it is, or raise ImageRejected. `stream` is rewound."""
    check_size(byte_size, max_bytes)
    stream.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow warns past its own limit and raises past twice that; ours is checked below.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(stream) as image:
                kind = ACCEPTED_FORMATS.get(image.format or "")
                if kind is None:
                    raise ImageRejected(_not_accepted(image.format))
                width, height = image.size
                _check_pixels(width, height, max_pixels)
                image.verify()
            stream.seek(0)
            # verify() checks structure only (and leaves the image unusable): decode it fully once.
            with Image.open(stream) as image:
                image.load()
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRejected(
            f"The image has too many pixels to process safely (at most {max_pixels:,} pixels)."
        ) from error
    except UnidentifiedImageError as error:
        raise ImageRejected("The file is not an image: upload a JPEG, PNG or WebP photo.") from error
    except (OSError, SyntaxError, ValueError) as error:
        # Pillow reports truncated and corrupt data as OSError/SyntaxError (and bad headers as ValueError).
        raise ImageRejected(f"The image is damaged or incomplete and can't be read ({error}).") from error
    finally:
        stream.seek(0)
    return ImageFacts(format=kind, width=width, height=height, byte_size=byte_size)


def served_type(name: str) -> str | None:
    """The image type a stored file is served as, from its name's extension; None: never serve it."""
    stem, dot, extension = name.rpartition(".")
    return SERVED_TYPES.get(extension.lower()) if dot and stem else None


def check_size(byte_size: int, max_bytes: int) -> None:
    if byte_size <= 0:
        raise ImageRejected("The file is empty.")
    if byte_size > max_bytes:
        raise ImageRejected(f"The image is {_megabytes(byte_size)}; images may be at most {_megabytes(max_bytes)}.")


def _check_pixels(width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageRejected("The image has no pixels.")
    if width * height > max_pixels:
        raise ImageRejected(
            f"The image is {width}x{height} pixels ({width * height:,}); images may have at most "
            f"{max_pixels:,} pixels. Resize it and upload it again."
        )


def _not_accepted(pillow_format: str | None) -> str:
    name = pillow_format or "unknown"
    return f"{name} images are not accepted: upload a JPEG, PNG or WebP photo."
