"""Pages and fragments travel compressed; collected static files carry their hash in the name and
are cached by browsers for a year (whitenoise with the manifest storage), the rest for a minute."""

from __future__ import annotations

import gzip

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.test import Client


def test_a_page_is_sent_gzipped_to_a_browser_that_accepts_it(client):
    response = client.get("/accounts/login/", headers={"accept-encoding": "gzip, deflate, br"})
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert b"<form" in gzip.decompress(response.content)


def test_a_page_is_sent_plain_to_a_client_that_does_not_accept_gzip(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert not response.has_header("Content-Encoding")
    assert b"<form" in response.content


def test_gzip_runs_below_whitenoise_and_above_the_views_middleware(settings):
    order = settings.MIDDLEWARE
    assert order.index("django.middleware.gzip.GZipMiddleware") == (
        order.index("whitenoise.middleware.WhiteNoiseMiddleware") + 1
    )


@pytest.fixture
def collected(settings, tmp_path):
    """Production's static storage: collectstatic into a fresh folder, served from there."""
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    settings.WHITENOISE_USE_FINDERS = False
    settings.WHITENOISE_AUTOREFRESH = False
    call_command("collectstatic", "--noinput", verbosity=0)
    return Client()  # a new handler, so whitenoise reads the folder just collected


def test_a_hashed_static_file_is_cached_for_a_year(collected):
    url = staticfiles_storage.url("css/app.css")
    assert url != "/static/css/app.css"  # the content's hash is in the name
    response = collected.get(url, headers={"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=315360000, public, immutable"
    assert response["Content-Encoding"] == "gzip"  # whitenoise's own compressed copy


def test_an_unhashed_static_file_is_cached_for_a_minute_only(collected):
    response = collected.get("/static/css/app.css")
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=60, public"
