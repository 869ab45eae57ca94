"""A store's brand colour: the `#rrggbb` its dashboard's bar, tabs and buttons are drawn in, with white text
on it. A colour too light to read white text on (WCAG's 4.5:1 for text) is refused in words."""

from __future__ import annotations

import re

HEX_COLOUR = re.compile(r"#[0-9a-f]{6}")
DEFAULT_BRAND_COLOUR = "#2f4f3a"
WHITE_TEXT_CONTRAST = 4.5


def _channel(value: int) -> float:
    share = value / 255
    return share / 12.92 if share <= 0.04045 else ((share + 0.055) / 1.055) ** 2.4


def contrast_with_white(colour: str) -> float:
    """WCAG 2's contrast ratio of white text on `colour` (a checked `#rrggbb`)."""
    red, green, blue = (int(colour[index : index + 2], 16) for index in (1, 3, 5))
    luminance = 0.2126 * _channel(red) + 0.7152 * _channel(green) + 0.0722 * _channel(blue)
    return 1.05 / (luminance + 0.05)


def clean_brand_colour(value: str) -> str:
    """`#rrggbb` in lower case, or "" (the platform's own colour). Raises ValueError with the reason."""
    colour = value.strip().lower()
    if not colour:
        return ""
    if not HEX_COLOUR.fullmatch(colour):
        raise ValueError("Give the colour as # and six hexadecimal digits, like #2f4f3a.")
    ratio = contrast_with_white(colour)
    if ratio < WHITE_TEXT_CONTRAST:
        raise ValueError(
            f"White text on {colour} is hard to read (contrast {ratio:.1f}:1, at least {WHITE_TEXT_CONTRAST}:1 is "
            "needed): choose a darker colour."
        )
    return colour
