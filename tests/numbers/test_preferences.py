"""Each viewer chooses the time zone dates are shown in; the site's zone is the default."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from numbers_app import staffify
from tests.helpers import state


def purchased(sandbox) -> datetime:
    """Number 1001's purchase instant, as Staffify has it."""
    return staffify.parse_datetime(state(sandbox, 1001)["purchased_at"])


def in_zone(moment: datetime, zone: str) -> str:
    """MOMENT as the dashboard writes it ("15 Sep 2026, 17:43 CEST"), worked out here in ZONE."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local.day} {local:%b %Y, %H:%M %Z}"


def purchase_time_shown(html: str) -> str:
    """What number 1001's page shows for its purchase instant: the text of its <time>."""
    found = re.search(r"<dt>Purchased</dt>\s*<dd[^>]*>\s*<time [^>]*>([^<]*)</time>", html)
    assert found, "the number's page shows no purchase time"
    return found.group(1)


def zones_shown(html: str) -> set[str]:
    """The zone of every date and time on the page (a plain date names none)."""
    return {
        found.group(1)
        for text in re.findall(r"<time [^>]*>([^<]*)</time>", html)
        if (found := re.search(r" ([A-Z]{3,5})$", text))
    }


@pytest.mark.django_db
def test_the_default_is_the_sites_zone(ops, staffify_sandbox, settings):
    html = ops.get("/p/main/numbers/1001/").content.decode()
    assert settings.TIME_ZONE == "Europe/Amsterdam"
    assert purchase_time_shown(html) == in_zone(purchased(staffify_sandbox), "Europe/Amsterdam")


@pytest.mark.django_db
def test_a_chosen_zone_holds_for_the_whole_page_even_after_staffify_calls(ops, staffify_sandbox):
    response = ops.post("/account/preferences", {"time_zone": "America/New_York"})
    assert response.status_code == 302
    html = ops.get("/p/main/numbers/1001/").content.decode()  # the sandbox answers in this same thread first
    assert purchase_time_shown(html) == in_zone(purchased(staffify_sandbox), "America/New_York")
    assert zones_shown(html) and zones_shown(html) <= {"EST", "EDT"}


@pytest.mark.django_db
def test_an_unknown_zone_is_refused_in_place(ops, staffify_sandbox):
    html = ops.post("/account/preferences", {"time_zone": "Mars/Olympus_Mons"}).content.decode()
    assert "Select a valid choice" in html


@pytest.mark.django_db
def test_the_zone_is_per_user(ops, staffify_sandbox, support_user):
    assert ops.post("/account/preferences", {"time_zone": "Asia/Tokyo"}).status_code == 302
    support = Client()  # the `client` fixture is the one `ops` is logged in with
    support.force_login(support_user)
    moment = purchased(staffify_sandbox)
    assert purchase_time_shown(ops.get("/p/main/numbers/1001/").content.decode()) == in_zone(moment, "Asia/Tokyo")
    # The other user still sees the site's zone.
    assert purchase_time_shown(support.get("/p/main/numbers/1001/").content.decode()) == in_zone(
        moment, "Europe/Amsterdam"
    )
