"""Pages for a logged-in user are never stored by a browser or a shared cache (a proxy, the back button
of a shared computer): numbers, tags, balances and audit entries stay on the server."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

# Not personal: static files (whitenoise answers them before this runs, except when a finder serves them)
# and the health check; the sandbox is an API of its own.
EXEMPT_PREFIXES = ("/static/", "/healthz", "/readyz", "/metrics", "/sandbox/")


class PrivateNoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(EXEMPT_PREFIXES) or not request.user.is_authenticated:
            return response
        if response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        else:
            response["Cache-Control"] = "private, no-store"
        return response
