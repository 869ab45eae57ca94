"""DRF authentication for buyers: `Authorization: Bearer lbb_...`, accepted on every store host for
buyer endpoints only (cart, checkout, their own orders). Store staff tokens (`lb_...`) are left to the
store's own authentication, and a buyer token is refused by every staff check (it is no store `User`).
On a dedicated store's stack the control plane is asked; when it cannot answer, the request gets a 503."""

from __future__ import annotations

import logging
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from storefront.buyers.control_plane import ControlPlaneUnavailable
from storefront.buyers.services import BuyerPrincipal, buyer_for_token, is_buyer_token

logger = logging.getLogger(__name__)


class BuyerCheckUnavailable(exceptions.APIException):
    """Nobody could say whose token it is: neither signed in nor refused, so the buyer may simply retry."""

    status_code = 503
    default_detail = {
        "code": "buyer_check_unavailable",
        "detail": "This store cannot check buyer sign-ins right now; try again in a moment.",
    }


class BuyerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Any) -> tuple[BuyerPrincipal, None] | None:
        header = authentication.get_authorization_header(request).split()
        if len(header) != 2 or header[0].lower() != b"bearer":
            return None
        raw = header[1].decode(errors="replace")
        if not is_buyer_token(raw):
            return None
        try:
            buyer = buyer_for_token(raw)
        except ControlPlaneUnavailable as error:
            logger.warning("buyer token not checked: %s", error)
            raise BuyerCheckUnavailable from error
        if buyer is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked buyer token.")
        return buyer, None

    def authenticate_header(self, request: Any) -> str:
        return self.keyword


def request_buyer(request: Any) -> BuyerPrincipal | None:
    user = getattr(request, "user", None)
    return user if isinstance(user, BuyerPrincipal) else None


class BuyerTokenScheme(OpenApiAuthenticationExtension):
    target_class = BuyerTokenAuthentication
    name = "buyerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "A buyer's token: `Bearer lbb_...`."}
