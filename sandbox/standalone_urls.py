"""URLs of a process that serves only the sandbox (see standalone.py)."""

from django.urls import include, path, re_path

from .endpoint import unknown_route

urlpatterns = [
    path("sandbox/", include("sandbox.urls")),
    re_path(r"^.*$", unknown_route),
]
