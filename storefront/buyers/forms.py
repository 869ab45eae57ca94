"""The buyer's sign-in and sign-up forms on the root domain (storefront.buyers.web)."""

from __future__ import annotations

from django import forms


class SignInForm(forms.Form):
    email = forms.EmailField(max_length=254)
    password = forms.CharField(max_length=128, widget=forms.PasswordInput(render_value=False))
    store = forms.SlugField(max_length=63, required=False, widget=forms.HiddenInput)


class SignUpForm(SignInForm):
    name = forms.CharField(max_length=120, required=False)
    field_order = ["name", "email", "password", "store"]
