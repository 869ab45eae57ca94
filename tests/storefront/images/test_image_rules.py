"""The pure parts of image processing, property-tested: fitting within a box, colour names, labels."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from storefront.images import palette
from storefront.images.thumbnails import SIZES, fit_within

sides = st.integers(min_value=1, max_value=20_000)
rgb = st.tuples(*[st.integers(0, 255)] * 3)


@given(sides, sides)
def test_a_thumbnail_fits_its_box_keeps_the_aspect_ratio_and_is_never_enlarged(width, height):
    for _, box_width, box_height in SIZES:
        w, h = fit_within(width, height, box_width, box_height)
        assert 1 <= w <= min(width, box_width) and 1 <= h <= min(height, box_height)
        # One side touches the box (or the image is smaller than the box and kept as it is).
        assert w == box_width or h == box_height or (w, h) == (width, height) or 1 in (w, h)
        # Aspect ratio kept to within the rounding of one pixel.
        assert abs(w * height - h * width) <= max(width, height)


def test_the_old_shop_s_listing_size_fits_a_4_3_photo_exactly():
    assert fit_within(1600, 1200, 268, 200) == (267, 200)
    assert fit_within(1200, 1600, 268, 200) == (150, 200)
    assert fit_within(200, 100, 268, 200) == (200, 100)


@given(st.sampled_from(sorted(palette.PALETTE)))
def test_each_palette_colour_is_named_as_itself(name):
    assert palette.nearest_colour(palette.PALETTE[name]) == name


@given(st.lists(rgb, max_size=300), st.floats(min_value=0.01, max_value=1.0))
def test_dominant_colours_are_palette_names_covering_the_share_most_first(pixels, share):
    names = palette.dominant_colours(pixels, min_share=share)
    assert len(names) <= palette.MAX_COLOURS and set(names) <= set(palette.PALETTE)
    counts = [sum(palette.nearest_colour(p) == name for p in pixels) for name in names]
    assert counts == sorted(counts, reverse=True)
    assert all(count / len(pixels) >= share for count in counts)


def test_a_mostly_blue_photo_with_a_white_border_is_blue_then_white():
    pixels = [(40, 80, 200)] * 70 + [(250, 250, 250)] * 25 + [(200, 30, 30)] * 5
    assert palette.dominant_colours(pixels) == ["blue", "white"]


@given(st.lists(st.lists(st.text(max_size=80), max_size=10), max_size=5))
def test_merged_labels_are_unique_lowercase_trimmed_and_bounded(groups):
    labels = palette.merge_labels(*groups)
    assert len(labels) == len(set(labels)) <= 30
    assert all(label == " ".join(label.lower().split()) and 0 < len(label) <= 60 for label in labels)


def test_shape_labels_name_orientation_format_and_resolution():
    assert palette.shape_labels(width=4000, height=3000, fmt="jpeg") == ["landscape", "jpeg", "high-resolution"]
    assert palette.shape_labels(width=300, height=600, fmt="png") == ["portrait", "png"]
    assert palette.shape_labels(width=500, height=520, fmt="webp") == ["square", "webp"]
