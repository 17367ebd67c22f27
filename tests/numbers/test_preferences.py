"""Each viewer chooses the time zone dates are shown in; the site's zone is the default."""

import pytest


@pytest.mark.django_db
def test_the_default_is_the_sites_zone(ops, staffify_sandbox, settings):
    html = ops.get("/numbers/1001/").content.decode()
    assert settings.TIME_ZONE == "Europe/Amsterdam"
    assert "CET</time>" in html or "CEST</time>" in html


@pytest.mark.django_db
def test_a_chosen_zone_holds_for_the_whole_page_even_after_staffify_calls(ops, staffify_sandbox):
    response = ops.post("/account/preferences", {"time_zone": "America/New_York"})
    assert response.status_code == 302
    html = ops.get("/numbers/1001/").content.decode()  # the sandbox answers in this same thread first
    assert "EST</time>" in html or "EDT</time>" in html


@pytest.mark.django_db
def test_an_unknown_zone_is_refused_in_place(ops, staffify_sandbox):
    html = ops.post("/account/preferences", {"time_zone": "Mars/Olympus_Mons"}).content.decode()
    assert "Select a valid choice" in html


@pytest.mark.django_db
def test_the_zone_is_per_user(ops, staffify_sandbox, support_user, client):
    ops.post("/account/preferences", {"time_zone": "Asia/Tokyo"})
    client.force_login(support_user)
    assert "JST</time>" not in client.get("/numbers/1001/").content.decode()
