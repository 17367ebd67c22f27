"""After a session expires, logging in again returns to the page the person was on, never to an action
URL that only takes a POST (which the browser would GET after the login: a 405)."""

from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def htmx_from(page: str) -> dict[str, str]:
    """The headers htmx sends from PAGE (the browser's current URL)."""
    return {"HX-Request": "true", "HX-Current-URL": f"http://testserver{page}"}


def login_next(url: str) -> str:
    split = urlsplit(url)
    assert split.path == LOGIN, url
    return parse_qs(split.query)["next"][0]


def test_an_htmx_action_without_a_session_sends_the_browser_to_log_in_and_back_to_its_page(client, ops_user):
    response = client.post(
        "/p/main/numbers/1001/agent", {"agent_id": "101"}, headers=htmx_from("/p/main/numbers/1001/")
    )

    assert response.status_code == 200  # htmx reads HX-Redirect: the whole page goes, not the fragment
    assert "Location" not in response
    assert login_next(response["HX-Redirect"]) == "/p/main/numbers/1001/"

    logged_in = client.post(response["HX-Redirect"], {"username": "ops", "password": "pw-ops"})
    assert logged_in.status_code == 302 and logged_in["Location"] == "/p/main/numbers/1001/"


def test_the_page_it_returns_to_keeps_its_query(client):
    page = "/p/main/?status=active&agent=none&tag=support"
    response = client.post("/p/main/numbers/1001/release", headers=htmx_from(page))
    assert login_next(response["HX-Redirect"]) == page


@pytest.mark.parametrize(
    "current",
    ["http://elsewhere.example/numbers/1001/", "https://testserver/numbers/1001/", "not a url", None],
)
def test_a_current_url_of_another_origin_or_none_returns_to_the_list(client, current):
    headers = {"HX-Request": "true"} | ({"HX-Current-URL": current} if current else {})
    response = client.post("/p/main/numbers/1001/agent", {"agent_id": "101"}, headers=headers)
    assert login_next(response["HX-Redirect"]) == "/p/main/"


def test_an_htmx_fragment_read_returns_to_the_page_not_the_fragment(client):
    response = client.get("/p/main/numbers/1001/tags/edit", headers=htmx_from("/p/main/?offset=50"))
    assert login_next(response["HX-Redirect"]) == "/p/main/?offset=50"


def test_a_plain_post_to_an_action_returns_to_the_list_not_the_post_only_url(client):
    response = client.post("/p/main/numbers/1001/agent", {"agent_id": "101"})
    assert response.status_code == 302
    assert login_next(response["Location"]) == "/p/main/"


def test_a_plain_page_returns_to_itself(client):
    response = client.get("/p/main/numbers/1001/?tab=history")
    assert response.status_code == 302
    assert login_next(response["Location"]) == "/p/main/numbers/1001/?tab=history"


def test_an_htmx_action_with_every_cookie_cleared_also_goes_to_log_in_and_back(ops_user):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)  # no session and no CSRF cookie: the user cleared them
    response = browser.post("/p/main/numbers/1001/agent", {"agent_id": "101"}, headers=htmx_from("/p/main/?tag=sales"))

    assert response.status_code == 200 and "Location" not in response
    assert login_next(response["HX-Redirect"]) == "/p/main/?tag=sales"


def test_a_stale_page_of_someone_signed_in_is_told_in_place_that_nothing_changed(ops_user):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(ops_user)
    action = browser.post("/p/main/numbers/1001/agent", {"agent_id": "101"}, headers=htmx_from("/p/main/"))
    assert action.status_code == 403 and action["HX-Reswap"] == "none"
    assert "nothing was changed. Reload the page" in action["HX-Trigger"]

    page = browser.post("/accounts/password_change/", {})
    assert page.status_code == 403
    assert "nothing was changed. Reload the page" in page.content.decode()
    assert "CSRF verification failed" not in page.content.decode()
