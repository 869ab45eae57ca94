"""OpenAPI: the store API's bearer tokens, described for drf-spectacular.

It documents tenants.accounts' authentication class and would sit there; it is here until that app
registers it itself (drf-spectacular finds an extension by the class's dotted path, wherever it lives).
"""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.accounts.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "A store member's token: `Bearer lb_...`."}
