"""The merchant signup form on the root domain."""

from django import forms

from tenants.models import Tenant


class SignupForm(forms.Form):
    store_name = forms.CharField(max_length=120, label="Store name")
    subdomain = forms.CharField(
        max_length=40, label="Store address", help_text="Lower-case letters, digits and hyphens."
    )
    email = forms.EmailField(label="Email")
    password = forms.CharField(widget=forms.PasswordInput(render_value=False), label="Password", strip=False)
    town = forms.CharField(max_length=80, label="Town")
    postcode = forms.CharField(max_length=16, label="Postcode")
    tenancy = forms.ChoiceField(
        choices=Tenant.Tenancy.choices,
        initial=Tenant.Tenancy.SHARED,
        widget=forms.RadioSelect,
        label="Hosting",
        help_text="Shared: live in a second. Dedicated: your own stack, set up by our staff.",
    )
    # One-time token that makes a double-submitted form harmless.
    form_token = forms.CharField(widget=forms.HiddenInput)
