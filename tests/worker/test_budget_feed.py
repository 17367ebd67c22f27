"""Every Staffify answer the dashboard's client receives updates the shared budget."""

import pytest

from numbers_app import staffify
from numbers_app.staffify import budget


@pytest.fixture(autouse=True)
def fresh_cache():
    from django.core.cache import cache

    cache.clear()


@pytest.mark.django_db
def test_an_answer_sets_the_budget_from_its_headers(staffify_sandbox):
    staffify.get_client().credits()
    known = budget.state()
    assert known.limit == 300 and known.remaining is not None and known.remaining < 300
    assert budget.allow("background")


@pytest.mark.django_db
def test_a_429_pauses_background_work_but_not_pages(staffify_sandbox):
    staffify_sandbox.put("/control/rate-limit", json={"per_minute": 1})
    client = staffify.get_client()
    client.credits()
    with pytest.raises(staffify.RateLimitError):
        client.credits()
    assert not budget.allow("background")
    assert budget.wait_time("background") > 0
