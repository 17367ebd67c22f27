"""Every kind of Staffify failure reaches the user as a sentence in place, never a 500 page."""

import re
import socket

import pytest

from tests.helpers import HX, fault


@pytest.mark.django_db
def test_a_429_says_when_to_try_again(ops, staffify_sandbox):
    staffify_sandbox.put("/control/rate-limit", json={"per_minute": 1})
    response = ops.get("/p/main/numbers/1001/")
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r"Staffify&#x27;s rate limit is reached: try again in \d+ seconds \(after \d\d:\d\d:\d\d\)", html)


@pytest.mark.django_db
def test_a_429_fault_on_an_action_is_explained_in_the_row(support, staffify_sandbox):
    support.get("/p/main/")
    fault(staffify_sandbox, status=429, path_prefix="/v1/phone-numbers/1001/assign")
    html = support.post("/p/main/numbers/1001/agent", {"agent_id": "110"}, headers=HX).content.decode()
    assert "rate limit is reached: try again in" in html


@pytest.mark.django_db
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_say_staffify_is_in_trouble_and_nothing_changed(ops, staffify_sandbox, status):
    fault(staffify_sandbox, status=status, count=3)
    html = ops.get("/p/main/numbers/1001/").content.decode()
    assert f"Staffify is having trouble (HTTP {status}). Nothing was changed." in html


@pytest.mark.django_db
def test_a_refused_connection_says_staffify_cannot_be_reached(ops, staffify_sandbox, settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.STAFFIFY_TRANSPORT = None
    settings.STAFFIFY_API_URL = f"http://127.0.0.1:{port}/v1"
    response = ops.get("/p/main/numbers/1001/")
    assert response.status_code == 200
    assert "Staffify cannot be reached. Nothing was changed." in response.content.decode()


@pytest.mark.django_db
def test_a_rejected_api_key_is_explained_without_showing_it(ops, staffify_sandbox, settings):
    settings.STAFFIFY_API_KEY = "sfy_live_" + "9" * 48
    html = ops.get("/p/main/numbers/1001/").content.decode()
    assert "Staffify rejected the dashboard&#x27;s API key" in html
    assert "9" * 48 not in html


@pytest.mark.django_db
def test_the_api_key_never_reaches_the_browser(ops, staffify_sandbox, settings):
    for path in ("/p/main/", "/p/main/buy/", "/p/main/numbers/1001/", "/p/main/numbers/999999/"):
        assert settings.STAFFIFY_API_KEY.encode() not in ops.get(path).content


@pytest.mark.django_db
def test_an_unknown_number_is_a_404_page_that_says_so(ops, staffify_sandbox):
    response = ops.get("/p/main/numbers/999999/")
    assert response.status_code == 404
    assert "Staffify does not know this number in this account" in response.content.decode()


@pytest.mark.django_db
def test_another_projects_number_is_not_shown(ops, staffify_sandbox):
    assert ops.get("/p/main/numbers/900/").status_code == 404


@pytest.mark.django_db
def test_an_unknown_address_under_debug_is_the_dashboards_404_not_every_url(ops, staffify_sandbox, settings):
    """`make run` has DEBUG on: Django's own 404 page would list every URL pattern to whoever opens a
    wrong link (issue 26, item 9)."""
    settings.DEBUG = True
    response = ops.get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "There is nothing at this address" in html
    assert "URL patterns" not in html and "alerts/read-all" not in html
    # A view's own 404 keeps what it says.
    response = ops.get("/p/main/numbers/999999/")
    assert response.status_code == 404
    assert "URL patterns" not in response.content.decode()
