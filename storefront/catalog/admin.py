"""The catalog in the store's admin: products and categories (list, search, filter), the seller
profile, and CSV import (upload, an htmx-polled progress bar, the refused rows) and export."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from billing import limits
from storefront.catalog import imports, photos, selectors, services
from storefront.catalog import product_rules as rules
from storefront.catalog.downloads import error_report_response, export_response
from storefront.catalog.models import Category, ImportJob, Product, SellerProfile
from storefront.catalog.templatetags.money import money
from storefront.images.admin import ProductImageInline
from storefront.publishing import services as publishing


class ProductAdminForm(forms.ModelForm):
    # Plain integers, so that bounds are checked by the rules below with their messages.
    price = forms.IntegerField(help_text="In minor units: 450 is £4.50.")
    stock = forms.IntegerField(initial=0)
    # The same rules as the API and the CSV import.
    RULES: dict[str, Callable[[Any], Any]] = {
        "title": rules.clean_title,
        "sku": rules.clean_sku,
        "description": rules.clean_description,
        "price": rules.clean_price,
        "currency": rules.clean_currency,
        "stock": rules.clean_stock,
        "tags": rules.clean_tags,
    }

    class Meta:
        model = Product
        fields = ["title", "sku", "description", "price", "currency", "stock", "status", "category", "tags"]
        help_texts = {"tags": "Comma-separated."}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name, rule in self.RULES.items():
            if cleaned.get(name) is None:
                continue
            try:
                cleaned[name] = rule(cleaned[name])
            except rules.FieldInvalid as error:
                self.add_error(name, str(error))
        if self.instance.pk is None:
            # The admin's add view runs in one transaction, the save included: the lock taken here holds
            # until the product is saved, so two additions at one below the limit cannot both pass.
            limits.lock_store_additions("products")
            try:
                limits.check_store_limit("products", current=Product.objects.count())
            except limits.PlanLimitReached as error:
                self.add_error(None, format_html('{} <a href="{}">Upgrade</a>', error.message, error.upgrade_url))
        return cleaned


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
    change_list_template = "catalog/admin/product_change_list.html"
    list_display = ["title", "sku", "shown_price", "stock", "status", "category", "updated_at"]
    list_filter = ["status", "category", "currency"]
    search_fields = ["title", "sku", "description"]
    list_select_related = ["category"]
    autocomplete_fields = ["category"]
    list_per_page = 50
    inlines = [ProductImageInline]

    @admin.display(description="price", ordering="price")
    def shown_price(self, product: Product) -> str:
        return money(product.price, product.currency)

    # The admin writes rows itself, so each change is also put in the marketplace outbox here (in the
    # same transaction as the change): the listing follows an edit, an archive or a delete.
    def save_model(self, request: HttpRequest, obj: Product, form: forms.ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        publishing.record_product_changes([obj.pk])

    # Deletions go through the catalog's service: the outbox row, and the clean-up of what builds on the
    # product (its image files, after commit).
    def delete_model(self, request: HttpRequest, obj: Product) -> None:
        services.delete_product(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        with transaction.atomic():
            for product in queryset.order_by("pk"):
                services.delete_product(product)

    def get_urls(self) -> list[URLPattern]:
        export = path("export.csv", self.admin_site.admin_view(self.export_view), name="catalog_product_export")
        return [export, *super().get_urls()]

    def export_view(self, request: HttpRequest) -> StreamingHttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return export_response(selectors.products())


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent"]
    list_select_related = ["parent"]
    search_fields = ["name", "slug"]
    list_filter = [("parent", admin.RelatedOnlyFieldListFilter)]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]


class SellerProfileAdminForm(forms.ModelForm):
    class Meta:
        model = SellerProfile
        fields = ["story", "photo", "town", "postcode"]

    def clean_photo(self) -> Any:
        photo = self.cleaned_data.get("photo")
        if isinstance(photo, UploadedFile):  # a new upload, not the file already saved
            try:
                return photos.clean_photo(photo)  # what is stored, under a name of the server's
            except photos.PhotoInvalid as error:
                raise forms.ValidationError(str(error)) from error
        return photo


@admin.register(SellerProfile)
class SellerProfileAdmin(admin.ModelAdmin):
    form = SellerProfileAdminForm
    list_display = ["__str__", "town", "postcode", "updated_at"]

    def save_model(self, request: HttpRequest, obj: SellerProfile, form: forms.ModelForm, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change or {"town", "postcode"} & set(form.changed_data):
            publishing.record_seller_moved()  # every listing carries the seller's place

    def has_add_permission(self, request: HttpRequest) -> bool:
        # One profile per store (the table allows only one row).
        return super().has_add_permission(request) and not SellerProfile.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ImportUploadForm(forms.Form):
    file = forms.FileField(help_text="A UTF-8 CSV: sku, title and price columns at least (see the export).")


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["created_at", "source_name", "status", "progress", "created_count", "updated_count", "failed_count"]
    list_filter = ["status"]
    search_fields = ["source_name"]
    change_form_template = "catalog/admin/import_job_change_form.html"
    # Status, counts, timings and the message are in the progress panel, which keeps itself current.
    fields = ("source_name", "created_by", "created_at")
    readonly_fields = fields

    @admin.display(description="progress")
    def progress(self, job: ImportJob) -> str:
        return f"{job.processed_rows}/{job.total_rows} ({job.percent}%)"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A job's record is what happened; it is read, not edited.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ImportJob | None = None) -> bool:
        # A running import is left to finish: its task would find its row gone.
        return super().has_delete_permission(request, obj) and (obj is None or obj.is_finished)

    def delete_model(self, request: HttpRequest, obj: ImportJob) -> None:
        imports.delete_import(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ImportJob]) -> None:
        for job in queryset.filter(status__in=[ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED]):
            imports.delete_import(job)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/progress/", view(self.progress_view), name="catalog_importjob_progress"),
            path("<int:pk>/errors.csv", view(self.errors_view), name="catalog_importjob_errors"),
            *super().get_urls(),
        ]

    def _job(self, request: HttpRequest, pk: int) -> ImportJob:
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = selectors.import_jobs().filter(pk=pk).first()
        if job is None:
            raise Http404("No such import.")
        return job

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None) -> Any:
        """The upload form: a valid file starts an import and leads to its progress page."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                job = imports.start_import(form.cleaned_data["file"], user=request.user)  # type: ignore[arg-type]
            except imports.ImportRefused as error:
                form.add_error("file", str(error))
            else:
                messages.success(request, f"Importing {job.source_name}.")
                return HttpResponseRedirect(reverse("admin:catalog_importjob_change", args=[job.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import products from CSV",
            "form": form,
        }
        return TemplateResponse(request, "catalog/admin/import_upload.html", context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = {**(extra_context or {})}
        if object_id.isdigit():
            extra["job"] = selectors.import_jobs().filter(pk=int(object_id)).first()
        return super().change_view(request, object_id, form_url, extra)

    def progress_view(self, request: HttpRequest, pk: int) -> TemplateResponse:
        """The progress bar alone, which htmx swaps in every second until the import finishes."""
        return TemplateResponse(request, "catalog/admin/import_progress.html", {"job": self._job(request, pk)})

    def errors_view(self, request: HttpRequest, pk: int) -> FileResponse:
        job = self._job(request, pk)
        if not job.error_report:
            raise Http404("This import refused no rows.")
        return error_report_response(job)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ImportJob]:
        return super().get_queryset(request).select_related("created_by")
