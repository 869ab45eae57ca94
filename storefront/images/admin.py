"""Product images in the store's admin: an inline on the product page (upload, alt text, order, delete)
showing each image's processing state, which htmx keeps current until the image is ready or failed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.forms.formsets import INITIAL_FORM_COUNT, TOTAL_FORM_COUNT, ManagementForm
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.functional import cached_property
from django.utils.safestring import SafeString

from storefront.images import services
from storefront.images.models import ProductImage


class ProductImageForm(forms.ModelForm):
    original = forms.FileField(label="Image", required=True, help_text="JPEG, PNG or WebP.")

    class Meta:
        model = ProductImage
        fields = ["original", "alt_text", "position"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # A stored image is replaced by deleting it and adding another, never edited in place.
            self.fields["original"].required = False
            self.fields["original"].disabled = True
            # Kept in its column (a hidden input would shift the row's cells under the wrong headings).
            self.fields["original"].widget = forms.FileInput(attrs={"hidden": "hidden"})

    def clean_original(self) -> Any:
        upload = self.cleaned_data.get("original")
        if isinstance(upload, UploadedFile):
            try:
                services.check_upload(upload, upload.size or 0)
            except services.ImageError as error:
                raise forms.ValidationError(str(error)) from error
        return upload


class ProductImageFormSet(BaseInlineFormSet):
    """New images and deletions go through the image services (storage, processing, main image)."""

    @cached_property
    def management_form(self) -> ManagementForm:
        if self.is_bound and f"{self.prefix}-{TOTAL_FORM_COUNT}" not in self.data:
            # The product form posted without its images section (a script, an older page): no image changes.
            empty = {f"{self.prefix}-{TOTAL_FORM_COUNT}": "0", f"{self.prefix}-{INITIAL_FORM_COUNT}": "0"}
            form = ManagementForm(empty, auto_id=self.auto_id, prefix=self.prefix)
            form.full_clean()
            return form
        return super().management_form

    def save_new(self, form: forms.ModelForm, commit: bool = True) -> ProductImage:
        data = form.cleaned_data
        return services.add_image(self.instance, data["original"], alt_text=data.get("alt_text") or "")

    def save_existing(self, form: forms.ModelForm, obj: ProductImage, commit: bool = True) -> ProductImage:
        saved = super().save_existing(form, obj, commit)
        if commit and "position" in form.changed_data:
            services.images_reordered(self.instance)
        return saved

    def delete_existing(self, obj: ProductImage, commit: bool = True) -> None:
        if commit:
            services.delete_image(obj)


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    form = ProductImageForm
    formset = ProductImageFormSet
    extra = 1
    fields = ["preview", "state", "original", "alt_text", "position", "shown_labels"]
    readonly_fields = ["preview", "state", "shown_labels"]
    ordering = ["position", "id"]

    class Media:
        js = ["vendor/htmx.min.js"]

    @admin.display(description="image")
    def preview(self, image: ProductImage) -> SafeString:
        if not image.pk:
            return SafeString("")
        return SafeString(render_to_string("images/admin/preview.html", {"image": image}))

    @admin.display(description="status")
    def state(self, image: ProductImage) -> SafeString:
        if not image.pk:
            return SafeString("")
        return SafeString(render_to_string("images/admin/state.html", {"image": image}))

    @admin.display(description="labels")
    def shown_labels(self, image: ProductImage) -> str:
        return ", ".join(image.labels)


@admin.register(ProductImage)
class ProductImageAdmin(admin.ModelAdmin):
    """Not listed on its own (images are edited on their product); serves the status fragment."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.state_view)
        return [path("<int:pk>/state/", view, name="images_productimage_state"), *super().get_urls()]

    def state_view(self, request: HttpRequest, pk: int) -> TemplateResponse:
        """The status cell alone, which htmx swaps in every 2 seconds while the image is processing."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        image = ProductImage.objects.filter(pk=pk).first()
        if image is None:
            raise Http404("No such image.")
        return TemplateResponse(request, "images/admin/state.html", {"image": image, "with_preview": True})
