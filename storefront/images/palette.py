"""Naming an image's colours and shape for search labels: pure Python, no Pillow, no ORM."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

# A small palette of names people search for; each pixel counts for the nearest one.
PALETTE: dict[str, tuple[int, int, int]] = {
    "black": (20, 20, 20),
    "white": (240, 240, 240),
    "grey": (128, 128, 128),
    "red": (200, 30, 30),
    "orange": (240, 140, 30),
    "yellow": (240, 220, 50),
    "green": (50, 150, 50),
    "blue": (40, 80, 200),
    "purple": (130, 50, 160),
    "pink": (240, 150, 190),
    "brown": (130, 80, 40),
    "beige": (220, 200, 160),
}
MIN_SHARE = 0.15
MAX_COLOURS = 3


def nearest_colour(rgb: tuple[int, int, int]) -> str:
    r, g, b = rgb
    return min(PALETTE, key=lambda name: _distance(PALETTE[name], r, g, b))


def _distance(colour: tuple[int, int, int], r: int, g: int, b: int) -> int:
    # Weighted by how the eye sees differences (the "redmean" approximation, in integers).
    mean_red = (colour[0] + r) // 2
    dr, dg, db = colour[0] - r, colour[1] - g, colour[2] - b
    return ((512 + mean_red) * dr * dr >> 8) + 4 * dg * dg + ((767 - mean_red) * db * db >> 8)


def dominant_colours(
    pixels: Iterable[tuple[int, int, int]], *, min_share: float = MIN_SHARE, limit: int = MAX_COLOURS
) -> list[str]:
    """Names of the palette colours covering at least `min_share` of the pixels, most first."""
    counts = Counter(nearest_colour(pixel) for pixel in pixels)
    total = sum(counts.values())
    if not total:
        return []
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [name for name, count in ranked if count / total >= min_share][:limit]


def shape_labels(*, width: int, height: int, fmt: str) -> list[str]:
    """`landscape`/`portrait`/`square`, the file format, and `high-resolution` for big photos."""
    ratio = width / height
    orientation = "square" if 0.9 <= ratio <= 1.1 else ("landscape" if ratio > 1 else "portrait")
    labels = [orientation, fmt]
    if width * height >= 4_000_000:
        labels.append("high-resolution")
    return labels


def merge_labels(*groups: Sequence[str], limit: int = 30) -> list[str]:
    """Lowercase, trimmed, first occurrence kept, in order; at most `limit` labels of 60 characters."""
    seen: dict[str, None] = {}
    for group in groups:
        for label in group:
            text = " ".join(label.lower().split())[:60]
            if text:
                seen.setdefault(text, None)
    return list(seen)[:limit]
