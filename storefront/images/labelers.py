"""Image labels for search, behind one small interface picked by `IMAGE_LABELER`.

`local` (default) needs no network: the dominant colours' names, the merchant's tags and the image's
shape and format. `rekognition` asks AWS Rekognition's DetectLabels (through boto3) what the photo shows,
and adds the local labels; if Rekognition can't be reached the local labels are kept (a photo is never
refused for want of labels).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from django.conf import settings
from PIL import Image

from storefront.images import palette

log = logging.getLogger(__name__)
# Colours are counted on a small copy: a few thousand pixels name them as well as millions.
_COLOUR_SAMPLE = (48, 48)


@dataclass(frozen=True)
class LabelSubject:
    """What a labeler may look at: the upright image (any size), its facts and the merchant's tags."""

    image: Image.Image
    format: str
    width: int
    height: int
    tags: Sequence[str] = field(default_factory=tuple)


class Labeler(Protocol):
    def labels(self, subject: LabelSubject) -> list[str]: ...


class LocalLabeler:
    def labels(self, subject: LabelSubject) -> list[str]:
        sample = subject.image.convert("RGB")
        sample.thumbnail(_COLOUR_SAMPLE)
        pixels = cast("Iterable[tuple[int, int, int]]", sample.get_flattened_data())
        colours = palette.dominant_colours(pixels)
        shape = palette.shape_labels(width=subject.width, height=subject.height, fmt=subject.format)
        return palette.merge_labels(colours, subject.tags, shape)


class RekognitionLabeler:
    """DetectLabels on a 1072-pixel JPEG copy (Rekognition reads JPEG and PNG, not WebP)."""

    def __init__(self, client: Any = None) -> None:
        self.client = client or rekognition_client()
        self.min_confidence = float(settings.REKOGNITION_MIN_CONFIDENCE)
        self.max_labels = int(settings.REKOGNITION_MAX_LABELS)

    def labels(self, subject: LabelSubject) -> list[str]:
        local = LocalLabeler().labels(subject)
        try:
            response = self.client.detect_labels(
                Image={"Bytes": _jpeg_bytes(subject.image)},
                MaxLabels=self.max_labels,
                MinConfidence=self.min_confidence,
            )
        except Exception:  # noqa: BLE001 - any failure of the service leaves the local labels
            log.warning("Rekognition detect_labels failed; keeping the local labels", exc_info=True)
            return local
        seen = [
            label["Name"]
            for label in response.get("Labels", [])
            if float(label.get("Confidence", 0)) >= self.min_confidence and label.get("Name")
        ]
        return palette.merge_labels(seen, local)


def rekognition_client() -> Any:
    import boto3

    return boto3.client(
        "rekognition",
        region_name=settings.REKOGNITION_REGION,
        endpoint_url=settings.REKOGNITION_ENDPOINT_URL or None,
    )


def _jpeg_bytes(image: Image.Image) -> bytes:
    copy = image.convert("RGB")
    copy.thumbnail((1072, 1072))
    buffer = io.BytesIO()
    copy.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


LABELERS: dict[str, type[LocalLabeler] | type[RekognitionLabeler]] = {
    "local": LocalLabeler,
    "rekognition": RekognitionLabeler,
}


def get_labeler() -> Labeler:
    try:
        return LABELERS[settings.IMAGE_LABELER]()
    except KeyError:
        raise ValueError(f"IMAGE_LABELER must be one of {sorted(LABELERS)}, not {settings.IMAGE_LABELER!r}") from None
