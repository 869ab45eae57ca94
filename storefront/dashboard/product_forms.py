"""What a merchant types on the dashboard's product pages, checked by the catalog's own rules
(`product_rules`, the API's and the CSV import's) before a service is called. Prices are typed in the
currency's major units ("4.50") and handed on as integer minor units."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import forms

from storefront.catalog import browsing
from storefront.catalog import product_rules as rules
from storefront.catalog.currencies import minor_unit_exponent
from storefront.catalog.models import Category, Product

NAME_MAX = 80  # Category.name
_THOUSANDS = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?")


def major_units(amount: int, currency: str) -> str:
    """450, "GBP" -> "4.50": a price as the merchant types it back (no symbol, no thousands commas)."""
    exponent = minor_unit_exponent(currency)
    return f"{Decimal(amount).scaleb(-exponent):.{exponent}f}"


def clean_typed_price(text: str, currency: str) -> int:
    """A price typed in major units ("4.50", "£4.5", "1,200") as minor units, or FieldInvalid.

    Read as a buyer's price filter is (`browsing.parse_price`), but stricter where a filter may guess and a
    price may not: a comma that is no thousands separator ("4,50") and digits past the currency's minor
    unit ("4.509") are refused rather than read as 450.00 or cut to 4.50."""
    if not text.strip():
        raise rules.FieldInvalid("Price is required.")
    example = major_units(450, currency)
    digits = text.strip().lstrip("£$€").strip()
    if "," in digits and not _THOUSANDS.fullmatch(digits):
        raise rules.FieldInvalid(f"Write the price with a point before the pence or cents, like {example}.")
    minor = browsing.parse_price(text, currency)
    if minor is None:
        raise rules.FieldInvalid(f"Price must be an amount like {example}.")
    exponent = minor_unit_exponent(currency)
    if len(digits.partition(".")[2]) > exponent:
        raise rules.FieldInvalid(f"A {currency} price has at most {exponent} digits after the point, like {example}.")
    return rules.clean_price(minor)


def _ruled(rule: Callable[[Any], Any], value: Any) -> Any:
    try:
        return rule(value)
    except rules.FieldInvalid as error:
        raise forms.ValidationError(str(error)) from error


def refusals_into(form: forms.Form, errors: dict[str, list[str]]) -> None:
    """A service's field errors (`CatalogError.errors`) shown next to the form's fields."""
    for field, messages in errors.items():
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


def errors_in_words(form: forms.Form) -> dict[str, str]:
    """Each field's errors (`__all__` for the form's own) as one sentence or more."""
    return {name: " ".join(str(said) for said in problems) for name, problems in form.errors.items()}


class ProductForm(forms.Form):
    title = forms.CharField(max_length=rules.TITLE_MAX)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False, strip=False)
    price = forms.CharField(max_length=30, help_text="For example 4.50.")
    stock = forms.CharField(
        max_length=12, required=False, initial="0", widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )
    status = forms.ChoiceField(choices=Product.Status.choices, initial=Product.Status.DRAFT)
    category = forms.ModelChoiceField(
        queryset=Category.objects.order_by("name", "id"), required=False, empty_label="No category"
    )
    tags = forms.CharField(required=False, help_text="Separated by commas.")
    sku = forms.CharField(label="SKU", max_length=rules.SKU_MAX, help_text="Your own code for it, unique.")

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["price"].widget.attrs["inputmode"] = "decimal"
        self.fields["price"].help_text = f"In {currency}, for example {major_units(450, currency)}."

    @classmethod
    def of(cls, product: Product, data: Any = None) -> ProductForm:
        initial = {
            "title": product.title,
            "description": product.description,
            "price": major_units(product.price, product.currency),
            "stock": product.stock,
            "status": product.status,
            "category": product.category_id,
            "tags": ", ".join(product.tags),
            "sku": product.sku,
        }
        return cls(data, initial=initial, currency=product.currency)

    def clean_title(self) -> str:
        return str(_ruled(rules.clean_title, self.cleaned_data["title"]))

    def clean_description(self) -> str:
        return str(_ruled(rules.clean_description, self.cleaned_data["description"]))

    def clean_price(self) -> int:
        return int(_ruled(lambda text: clean_typed_price(text, self.currency), self.cleaned_data["price"]))

    def clean_stock(self) -> int:
        return int(_ruled(rules.clean_stock, self.cleaned_data["stock"]))

    def clean_tags(self) -> list[str]:
        return list(_ruled(rules.split_tags, self.cleaned_data["tags"]))

    def clean_sku(self) -> str:
        return str(_ruled(rules.clean_sku, self.cleaned_data["sku"]))

    def product_fields(self) -> dict[str, Any]:
        """The cleaned values, as `services.create_product`/`update_product` take them."""
        return {name: self.cleaned_data[name] for name in self.fields}


def _typed_stock(text: str) -> int:
    # A blank box sent by a slip of the thumb is not "none left".
    if not text.strip():
        raise rules.FieldInvalid("Stock is required.")
    return rules.clean_stock(text)


class QuickEditForm(forms.Form):
    """One field of a product edited from its row in the list: `price` or `stock`."""

    FIELDS = ("price", "stock")

    def __init__(self, data: Any, *, currency: str) -> None:
        super().__init__(data)
        self.currency = currency
        for name in self.FIELDS:
            if name in data:
                self.fields[name] = forms.CharField(max_length=30, required=False, strip=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.fields:
            raise forms.ValidationError("Send a price or a stock to change.")
        rule = {"price": lambda text: clean_typed_price(text, self.currency), "stock": _typed_stock}
        for name in list(cleaned):
            try:
                cleaned[name] = rule[name](cleaned[name])
            except rules.FieldInvalid as error:
                self.add_error(name, str(error))
        return cleaned


class CategoryForm(forms.Form):
    name = forms.CharField(max_length=200)

    def clean_name(self) -> str:
        return str(
            _ruled(lambda text: rules.clean_text(text, "Name", NAME_MAX, required=True), self.cleaned_data["name"])
        )


class PhotoUploadForm(forms.Form):
    # A plain file field: what is an acceptable image is the image service's to say (add_image).
    file = forms.FileField(label="Photo", help_text="JPEG, PNG or WebP.")
    alt_text = forms.CharField(label="Describe it (for people who can't see it)", max_length=200, required=False)


class ImportUploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="sku, title and price columns at least (see the export).")
