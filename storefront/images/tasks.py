"""Celery tasks of product images; each runs in the schema of the store that queued it."""

from celery import shared_task

from storefront.images import processing


@shared_task(name="images.process_image", ignore_result=True)
def process_image(image_id: int) -> None:
    processing.process_image(image_id)
