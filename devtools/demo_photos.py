"""Pictures for the demo products, drawn with Pillow (no files in the repository, nothing downloaded): a
loaf, a cake, a mug, a bowl or a vase in the product's colour on a soft background, as a JPEG a merchant
might upload. They go through the images service like any upload, so thumbnails are made by the worker."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

SIZE = (800, 600)
Colour = tuple[int, int, int]


def _shade(colour: Colour, factor: float) -> Colour:
    return (int(colour[0] * factor), int(colour[1] * factor), int(colour[2] * factor))


def _draw(draw: ImageDraw.ImageDraw, shape: str, colour: Colour) -> None:
    dark = _shade(colour, 0.7)
    if shape == "loaf":
        draw.ellipse((170, 200, 630, 470), fill=colour, outline=dark, width=8)
        for x in (300, 400, 500):
            draw.line((x - 40, 260, x + 40, 410), fill=dark, width=10)
    elif shape == "cake":
        draw.rectangle((180, 240, 620, 450), fill=colour, outline=dark, width=8)
        draw.rectangle((180, 240, 620, 290), fill=_shade(colour, 0.8))
    elif shape == "mug":
        draw.rounded_rectangle((250, 180, 500, 470), radius=30, fill=colour, outline=dark, width=8)
        draw.ellipse((460, 250, 590, 400), outline=dark, width=26)
    elif shape == "bowl":
        draw.pieslice((170, 120, 630, 500), 0, 180, fill=colour, outline=dark, width=8)
        draw.rectangle((330, 480, 470, 505), fill=dark)
    else:  # vase
        draw.polygon(
            [(360, 150), (440, 150), (430, 230), (520, 380), (470, 480), (330, 480), (280, 380), (370, 230)],
            fill=colour,
            outline=dark,
        )


def demo_photo(shape: str, colour: Colour, name: str) -> SimpleUploadedFile:
    background = tuple(min(255, 200 + c // 5) for c in colour)
    image = Image.new("RGB", SIZE, background)  # type: ignore[arg-type]
    draw = ImageDraw.Draw(image)
    draw.ellipse((150, 440, 650, 520), fill=_shade(background, 0.85))  # type: ignore[arg-type]
    _draw(draw, shape, colour)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=88)
    return SimpleUploadedFile(f"{name}.jpg", buffer.getvalue(), content_type="image/jpeg")
