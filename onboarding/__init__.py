"""Merchant onboarding, above the domains it orchestrates: signup makes the tenant (tenants), its
subscription (billing), its owner and its marketplace profile (storefront) in one transaction."""
