"""Every URL pattern of ours but /healthz, /readyz and /metrics refuses an anonymous user. Django's own
patterns (admin/ and the auth views under accounts/) are Django's to guard and to test; the sandbox has
its own API-key auth and is tested in tests/sandbox."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.helpers import HX

PUBLIC = {"healthz", "readyz", "metrics"}  # metrics: a token or an address instead (test_metrics.py)
NOT_OURS = ("admin/", "accounts/", "sandbox/")


def walk(patterns, prefix=""):
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, route)
        elif isinstance(p, URLPattern):
            yield route, p.name


def concrete(route: str) -> str:
    import re

    path = re.sub(r"<(?:int|staffify_id):[^>]+>", "1", route).replace("<slug:project>", "main")
    path = re.sub(r"<(?:str|slug|path):[^>]+>|<[^>]+>", "x", path)
    path = path.replace("^", "").replace("$", "").replace("\\Z", "")
    return "/" + path


def all_routes():
    return [(route, name) for route, name in walk(get_resolver().url_patterns) if not route.startswith(NOT_OURS)]


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "name"), [(route, name) for route, name in all_routes() if name not in PUBLIC])
def test_no_page_answers_an_anonymous_user(client, route, name):
    path = concrete(route)
    for method in ("get", "post"):
        response = getattr(client, method)(path)
        assert response.status_code in (302, 401, 403, 404, 405), (method, path, response.status_code)
        if response.status_code == 302 and not name and response["Location"] == "/p/main" + path:
            response = client.get(response["Location"])  # a URL from before projects: to the default one's
            assert response.status_code in (302, 401, 403, 404, 405), (method, path, response.status_code)
        if response.status_code == 302:
            assert "/login/" in response["Location"], (method, path, response["Location"])


@pytest.mark.django_db
def test_the_walk_covers_the_dashboard_pages():
    names = {name for _, name in all_routes()}
    assert {
        "number_list",
        "number_detail",
        "assign_agent",
        "save_tags",
        "release_number",
        "reclaim_number",
        "buy",
        "buy_confirm",
        "buy_number",
    } <= names


@pytest.mark.django_db
def test_an_htmx_request_without_login_is_sent_to_the_login_page(client):
    response = client.post("/p/main/numbers/1/agent", {"agent_id": "101"}, headers=HX)
    assert response["HX-Redirect"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_a_user_without_a_role_sees_nothing(client, outsider):
    client.force_login(outsider)
    response = client.get("/p/main/")
    assert response.status_code == 403
    assert "cannot see the dashboard" in response.content.decode()
