"""CSV files landing in a store's S3 prefix (`<schema>/imports/incoming/`) are imported exactly once,
into that store only, through the ordinary import pipeline (moto's S3 server, real boto3)."""

from __future__ import annotations

import re

from storefront.catalog import import_inbox, tasks
from storefront.catalog.models import ImportJob, Product
from tenants.db_backend import connection
from tests.storefront.conftest import csv_bytes, product_rows
from tests.storefront.images.conftest import keys


def test_a_csv_dropped_in_a_store_s_prefix_is_imported_once_and_moved(
    make_store, s3_media, eager_tasks, django_capture_on_commit_callbacks
):
    # Given a CSV in one store's inbox, a broken one in another's
    alpha, beta = make_store(), make_store()
    a, b = alpha.tenant.schema_name, beta.tenant.schema_name
    s3_media.put_object(Key=f"{a}/imports/incoming/spring.csv", Body=csv_bytes(product_rows(12)))
    s3_media.put_object(Key=f"{b}/imports/incoming/bad.csv", Body=b"name,cost\nJug,12\n")
    s3_media.put_object(Key=f"{b}/imports/incoming/notes.txt", Body=b"not a csv")

    # When the beat task runs twice
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.scan_import_inboxes.apply().get() == 2  # one scan queued per live shared store
    with django_capture_on_commit_callbacks(execute=True):
        tasks.scan_import_inboxes.apply().get()

    # Then the first store imported it once, and the file moved to processed/
    connection.set_tenant(alpha.tenant)
    job = ImportJob.objects.get()
    assert (job.status, job.created_count, job.source_name) == ("succeeded", 12, "spring.csv")
    assert Product.objects.count() == 12
    # the second store imported nothing: its broken file was moved aside with the reason
    connection.set_tenant(beta.tenant)
    assert not ImportJob.objects.exists() and not Product.objects.exists()
    connection.set_schema_to_public()
    stored = keys(s3_media)
    assert not [key for key in stored if "/incoming/" in key and key.endswith(".csv")]
    assert len([key for key in stored if key.startswith(f"{a}/imports/processed/")]) == 1
    refused = [key for key in stored if key.startswith(f"{b}/imports/refused/")]
    assert len(refused) == 2 and refused[1].endswith(".csv.txt")
    reason = s3_media.Object(refused[1]).get()["Body"].read().decode()
    assert "column" in reason.lower()
    assert f"{b}/imports/incoming/notes.txt" in stored


def test_a_file_whose_job_was_made_before_a_crash_is_only_moved_on_the_next_scan(
    store, in_store, s3_media, eager_tasks, django_capture_on_commit_callbacks
):
    schema = store.tenant.schema_name
    s3_media.put_object(Key=f"{schema}/imports/incoming/spring.csv", Body=csv_bytes(product_rows(3)))
    with django_capture_on_commit_callbacks(execute=True):
        first = import_inbox.scan_inbox()
    # The scan "died" before moving: put the same object back as it was.
    processed = next(key for key in keys(s3_media) if "/processed/" in key)
    s3_media.copy({"Bucket": s3_media.name, "Key": processed}, f"{schema}/imports/incoming/spring.csv")
    ImportJob.objects.filter(pk=first[0].pk).update(source_key=import_inbox._source_key("imports/incoming/spring.csv"))

    with django_capture_on_commit_callbacks(execute=True):
        again = import_inbox.scan_inbox()

    assert again == [] and ImportJob.objects.count() == 1
    assert not [key for key in keys(s3_media) if "/incoming/" in key]


def test_a_moved_inbox_file_gets_a_name_of_the_server_s_and_is_stored_as_a_download(
    store, in_store, s3_media, eager_tasks, django_capture_on_commit_callbacks
):
    schema = store.tenant.schema_name
    s3_media.put_object(
        Key=f"{schema}/imports/incoming/Spring sale <b>.html.csv",
        Body=csv_bytes(product_rows(1)),
        ContentType="text/html",
    )

    with django_capture_on_commit_callbacks(execute=True):
        import_inbox.scan_inbox()

    (processed,) = [key for key in keys(s3_media) if "/processed/" in key]
    assert re.fullmatch(rf"{schema}/imports/processed/\d{{8}}T\d{{6}}-Spring-sale-b-html\.csv", processed), processed
    stored = s3_media.Object(processed)
    assert (stored.content_type, stored.content_disposition) == ("application/octet-stream", "attachment")
