"""Downloads of the catalog as HTTP responses, for the API and the admin alike: the CSV export and an
import's error report."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse

from storefront.catalog import selectors
from storefront.catalog.models import ImportJob, Product


def export_response(products: QuerySet[Product]) -> StreamingHttpResponse:
    """The products as a streamed CSV download (the API's and the admin's)."""
    response = StreamingHttpResponse(selectors.export_csv_lines(products), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="products.csv"'
    return response


def error_report_response(job: ImportJob) -> FileResponse:
    """An import's error report as a download (the API's and the admin's)."""
    return FileResponse(
        job.error_report.open("rb"),
        as_attachment=True,
        filename=selectors.error_report_name(job),
        content_type="text/csv",
    )
