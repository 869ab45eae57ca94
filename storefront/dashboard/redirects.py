"""The answer to a dashboard form posted without JavaScript: back to a page by a 303, so that reloading it
never posts the form again."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponseRedirect
from django.shortcuts import resolve_url


def see_other(to: str, *args: Any, **kwargs: Any) -> HttpResponseRedirect:
    response = HttpResponseRedirect(resolve_url(to, *args, **kwargs))
    response.status_code = 303
    return response
