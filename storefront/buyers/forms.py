"""The buyer's sign-in and sign-up forms on the root domain (storefront.buyers.web)."""

from __future__ import annotations

from django import forms

from storefront.buyers.services import BuyerRefused


class SignInForm(forms.Form):
    email = forms.EmailField(max_length=254)
    password = forms.CharField(max_length=128, widget=forms.PasswordInput(render_value=False))
    store = forms.SlugField(max_length=63, required=False, widget=forms.HiddenInput)
    # The root page that asked for a sign-in (say /buyers/me/), gone back to afterwards if it is local.
    next = forms.CharField(max_length=200, required=False, widget=forms.HiddenInput)


class SignUpForm(SignInForm):
    name = forms.CharField(max_length=120, required=False)
    field_order = ["name", "email", "password", "store", "next"]


class ProfileForm(forms.Form):
    name = forms.CharField(max_length=120, required=False)
    town = forms.CharField(max_length=80, required=False)
    postcode = forms.CharField(
        max_length=16, required=False, help_text="A UK postcode, like HX7 8AD; stores near it are easier to find."
    )


class NewPasswordForm(forms.Form):
    """A new password typed twice; its strength is checked by the service (validate_password)."""

    new_password = forms.CharField(
        label="New password", max_length=128, strip=False, widget=forms.PasswordInput(render_value=False)
    )
    new_password_again = forms.CharField(
        label="New password, again", max_length=128, strip=False, widget=forms.PasswordInput(render_value=False)
    )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        if cleaned.get("new_password") and cleaned.get("new_password") != cleaned.get("new_password_again"):
            self.add_error("new_password_again", "The two passwords differ.")
        return cleaned


class PasswordChangeForm(NewPasswordForm):
    current_password = forms.CharField(
        label="Current password", max_length=128, strip=False, widget=forms.PasswordInput(render_value=False)
    )
    field_order = ["current_password", "new_password", "new_password_again"]


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(max_length=254)


class CloseAccountForm(forms.Form):
    password = forms.CharField(
        label="Your password", max_length=128, strip=False, widget=forms.PasswordInput(render_value=False)
    )


def add_refusal_errors(form: forms.Form, refusal: BuyerRefused) -> None:
    """Show a service's refusal on the form, each problem beside its field (or above the form)."""
    for field, problems in refusal.errors.items():
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)
