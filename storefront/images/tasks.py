"""Celery tasks of product images; each runs in the schema of the store that queued it."""

from celery import shared_task


@shared_task(name="images.process_image", ignore_result=True)
def process_image(image_id: int) -> None:
    from storefront.images import processing

    processing.process_image(image_id)
