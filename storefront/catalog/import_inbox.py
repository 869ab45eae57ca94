"""CSV import from a store's inbox in its media storage: a file at `imports/incoming/<name>.csv` (on S3:
`<schema>/imports/incoming/<name>.csv` in the bucket) is imported through the ordinary import pipeline
exactly once, then moved to `imports/processed/` (or `imports/refused/`, with a `.txt` saying why).

Once is kept by the database, not by the move: each file's name, modification time and size make the
import job's unique `source_key`, so a scan that dies after queueing a job but before moving its file
only moves it next time, and two scans of the same file can't both create a job.
"""

from __future__ import annotations

import logging
import posixpath
import re

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError
from django.utils import timezone

from storefront.catalog import imports
from storefront.catalog.models import ImportJob

log = logging.getLogger(__name__)

INCOMING = "imports/incoming/"
PROCESSED = "imports/processed/"
REFUSED = "imports/refused/"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def scan_inbox() -> list[ImportJob]:
    """Import every CSV waiting in this store's inbox (run in the store's schema); returns the new jobs."""
    _, files = default_storage.listdir(INCOMING)
    jobs = []
    for filename in sorted(files):
        if not filename.lower().endswith(".csv"):
            continue
        name = INCOMING + filename
        key = _source_key(name)
        if ImportJob.objects.filter(source_key=key).exists():
            _move(name, PROCESSED)  # imported by an earlier scan that stopped before moving it
            continue
        try:
            with default_storage.open(name, "rb") as stream:
                job = imports.start_import(File(stream, name=filename), source_key=key)
        except imports.ImportRefused as error:
            _move(name, REFUSED, reason=str(error))
            continue
        except IntegrityError:
            log.info("inbox file %s was taken by another scan", name)
            continue
        jobs.append(job)
        _move(name, PROCESSED)
    return jobs


def _source_key(name: str) -> str:
    modified = default_storage.get_modified_time(name)
    return f"{name}@{modified.isoformat()}#{default_storage.size(name)}"[:400]


def _move(name: str, folder: str, *, reason: str = "") -> str:
    """Copy to `folder` (under a timestamped name, never overwriting) and delete the original."""
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S")
    # Made here from what the merchant called it (letters, digits, `-`, `_`) and always `.csv`.
    stem = _UNSAFE.sub("-", posixpath.basename(name).rpartition(".")[0]).strip("-")[:100] or "import"
    target = f"{folder}{stamp}-{stem}.csv"
    with default_storage.open(name, "rb") as stream:
        target = default_storage.save(target, stream)
    if reason:
        default_storage.save(f"{target}.txt", ContentFile(reason.encode() + b"\n"))
    default_storage.delete(name)
    return target
