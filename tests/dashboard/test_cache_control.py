"""Every page, fragment and export a logged-in user sees says `Cache-Control: private, no-store`, so no
browser cache or proxy keeps it; static files and the health check stay cacheable."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from numbers_app.web.privacy import PrivateNoStoreMiddleware
from tests.helpers import HX


def directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/p/main/", {}),
        ("/p/main/?status=active", HX),
        ("/p/main/numbers/1001/", {}),
        ("/p/main/numbers/1001/tags/view", HX),
        ("/p/main/numbers/1001/tags/edit", HX),
        ("/p/main/numbers/1001/release", HX),
        ("/p/main/buy/", {}),
        ("/p/main/billing/", {}),
        ("/p/main/billing/?format=csv", {}),
        ("/p/main/audit/", {}),
        ("/p/main/audit/?format=csv", {}),
        ("/account/preferences", {}),
        ("/p/main/numbers/999/nothing-here", {}),
    ],
)
def test_a_logged_in_page_is_private_and_not_stored(ops, staffify_sandbox, path, headers):
    response = ops.get(path, headers=headers)
    assert response.status_code in (200, 404), response.status_code
    assert directives(response) >= {"private", "no-store"}, response.get("Cache-Control")


@pytest.mark.django_db
def test_a_fragment_answering_a_post_is_not_stored(ops, staffify_sandbox):
    response = ops.post("/p/main/numbers/1001/agent", {"agent_id": ""}, headers=HX)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.django_db
def test_the_admin_keeps_its_own_headers_and_adds_ours(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/admin/")
    assert directives(response) >= {"private", "no-store"}


@pytest.mark.django_db
def test_static_files_stay_cacheable(ops):
    response = ops.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in directives(response) and "private" not in directives(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "expected"),
    [("/p/main/", "private, no-store"), ("/healthz", None), ("/static/js/app.js", None), ("/sandbox/v1/credits", None)],
)
def test_the_middleware_leaves_the_health_check_and_static_files_alone(ops_user, path, expected):
    request = RequestFactory().get(path)
    request.user = ops_user
    response = PrivateNoStoreMiddleware(lambda request: HttpResponse("ok"))(request)
    assert response.get("Cache-Control") == expected


@pytest.mark.django_db
def test_the_middleware_adds_to_a_view_s_own_cache_control(ops_user):
    request = RequestFactory().get("/p/main/")
    request.user = ops_user

    def view(request):
        response = HttpResponse("ok")
        response["Cache-Control"] = "public, max-age=60"
        return response

    response = PrivateNoStoreMiddleware(view)(request)
    assert directives(response) == {"private", "no-store", "max-age=60"}
