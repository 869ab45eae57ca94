"""Importing products from a CSV file on the dashboard: the upload starts the catalog's import job (the path of
POST /api/v1/products/import), then the job's page shows a progress bar that htmx refreshes every second
until the import is done, with the counts and the refused rows to download."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from storefront.catalog import imports, selectors
from storefront.catalog.downloads import error_report_response
from storefront.catalog.models import ImportJob
from storefront.dashboard.access import member_required
from storefront.dashboard.product_forms import ImportUploadForm

RECENT = 10


@member_required
def upload(request: HttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = imports.start_import(form.cleaned_data["file"], user=request.user)  # type: ignore[arg-type]
        except imports.ImportRefused as error:
            form.add_error("file", str(error))
        else:
            messages.success(request, f"Importing {job.source_name}.")
            return redirect("dashboard:products-import-job", pk=job.pk)
    context = {"section": "products", "form": form, "jobs": selectors.import_jobs()[:RECENT]}
    return render(request, "dashboard/products_import.html", context)


def _job(pk: int) -> ImportJob:
    job = selectors.import_jobs().filter(pk=pk).first()
    if job is None:
        raise Http404("No such import.")
    return job


@member_required
def job_page(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "dashboard/products_import_job.html", {"section": "products", "job": _job(pk)})


@member_required
def progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress panel alone, which htmx swaps in every second until the import has finished."""
    return render(request, "dashboard/products_import_progress.html", {"job": _job(pk)})


# member_required is typed for pages; a download passes through it the same.
@member_required  # type: ignore[arg-type]
def refused_rows(request: HttpRequest, pk: int) -> FileResponse:
    job = _job(pk)
    if not job.is_finished or not job.error_report:
        raise Http404("This import has no refused rows to download.")
    return error_report_response(job)
