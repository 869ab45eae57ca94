"""Buyers: one account for the whole marketplace, kept in the control plane (`public`). Stores never
hold a foreign key to a buyer (their schemas may move to other servers): they keep the buyer's id."""

from __future__ import annotations

from django.contrib.auth.hashers import check_password, make_password
from django.db import models
from django.db.models.functions import Lower


class Buyer(models.Model):
    email = models.EmailField(max_length=254)
    name = models.CharField(max_length=120, blank=True, default="")
    password = models.CharField(max_length=128)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the buyer opened the link mailed to them (storefront.buyers.verification). Unverified buyers
    # still shop: the mark tells stores and the buyer that the address is really theirs.
    email_verified_at = models.DateTimeField(null=True, blank=True)
    # Where the buyer shops from, as they typed it (a UK postcode is normalised: "HX7 8AD").
    town = models.CharField(max_length=80, blank=True, default="")
    postcode = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="buyer_email_unique_ci")]

    def __str__(self) -> str:
        return self.email

    @property
    def is_email_verified(self) -> bool:
        return self.email_verified_at is not None

    def set_password(self, raw: str) -> None:
        self.password = make_password(raw)

    def check_password(self, raw: str) -> bool:
        return check_password(raw, self.password)


class BuyerToken(models.Model):
    """A buyer's bearer token (prefix `lbb_`); only its SHA-256 digest is stored."""

    buyer = models.ForeignKey(Buyer, on_delete=models.CASCADE, related_name="tokens")
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.buyer_id})"
