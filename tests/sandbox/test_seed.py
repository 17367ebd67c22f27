"""The deterministic demo seed, and the seed_sandbox command that is safe to run twice."""

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from sandbox import billing, seed
from sandbox.models import Address, Agent, ApiKey, Charge, PhoneNumber, Project

pytestmark = pytest.mark.django_db

# On the PostgreSQL pass too (@pytest.mark.postgres): explicit ids, sequences, racing seeders (the
# seed's contents are checked on SQLite only).


def demo_numbers():
    return PhoneNumber.objects.filter(project_id="proj_demo")


def test_it_seeds_about_sixty_numbers_across_us_nl_and_de(seeded):
    numbers = demo_numbers()
    assert numbers.count() == 60
    assert set(numbers.values_list("id", flat=True)) == set(range(1001, 1061))
    by_country = Counter(numbers.values_list("country_code", flat=True))
    assert set(by_country) == {"US", "NL", "DE"} and min(by_country.values()) >= 10


def test_most_numbers_are_assigned_and_tagged(seeded):
    numbers = list(demo_numbers())
    assert sum(n.agent_id is not None for n in numbers) >= 40
    assert sum(bool(n.tags) for n in numbers) >= 40
    assert {"support", "sales", "amsterdam", "berlin", "billing", "after-hours"} <= {
        tag for n in numbers for tag in n.tags
    }


def test_three_numbers_are_pending_at_different_points_of_their_window(seeded):
    now = billing.now()
    pending = demo_numbers().filter(status=PhoneNumber.PENDING_RELEASE).order_by("id")
    assert [n.id for n in pending] == list(seed.PENDING_IDS)
    ago = sorted(round((now - n.released_at) / timedelta(days=1), 1) for n in pending)
    assert ago == [1.0, 4.0, 6.5]
    assert all(n.agent_id is None and n.reclaim_before == n.released_at + timedelta(days=7) for n in pending)


def test_purchase_dates_spread_over_the_last_80_days(seeded):
    now = billing.now()
    ages = [(now - n.purchased_at) / timedelta(days=1) for n in demo_numbers()]
    assert max(ages) < 80.01 and min(ages) > 0  # the clock moved a little since seeding
    assert max(ages) - min(ages) > 70
    assert {int(age // 10) for age in ages} >= set(range(8))  # every ten-day stretch has some


@pytest.mark.postgres
def test_billing_state_is_consistent_with_the_purchase_dates(seeded):
    now = billing.now()
    for number in demo_numbers():
        until = number.released_at or now
        assert number.cycles_billed == 1 + (until - number.purchased_at) // billing.CYCLE
        assert number.paid_until == number.purchased_at + number.cycles_billed * billing.CYCLE
        if number.status == PhoneNumber.ACTIVE:
            assert number.paid_until > now
        assert Charge.objects.filter(number=number).count() == number.cycles_billed


def test_the_balance_agents_and_addresses(seeded):
    project = Project.objects.get(pk="proj_demo")
    assert project.balance == Decimal("42.50")
    assert (project.tier, project.rate_limit_per_minute) == ("payg", 300)
    assert list(Agent.objects.filter(project=project).values_list("id", flat=True)) == list(range(101, 111))
    statuses = dict(Address.objects.filter(project=project).values_list("id", "status"))
    assert statuses == {4: "verified", 7: "verified", 8: "partially_verified", 9: "pending", 10: "rejected"}


def test_the_keys_are_seeded_with_their_kinds_and_scopes(seeded):
    keys = {k.label: k for k in ApiKey.objects.all()}
    assert keys["demo"].key_hash == seed.hash_key(seed.DEMO_KEY) and keys["demo"].scope == "write"
    assert keys["demo read-only"].scope == "read"
    assert keys["demo organisation"].kind == "org" and keys["demo organisation"].project is None
    assert keys["demo revoked"].revoked
    assert keys["other project"].project_id == "proj_other"


@pytest.mark.postgres
def test_seeding_twice_changes_nothing(seeded):
    before = list(PhoneNumber.objects.values_list("id", "phone_number", "tags", "agent_id"))
    assert seed.seed() is False
    assert list(PhoneNumber.objects.values_list("id", "phone_number", "tags", "agent_id")) == before
    assert Project.objects.count() == 3


@pytest.mark.postgres
def test_the_seed_is_the_same_every_time(seeded):
    before = list(PhoneNumber.objects.values_list("id", "phone_number", "tags", "agent_id", "status"))
    assert seed.seed(reset=True) is True
    assert list(PhoneNumber.objects.values_list("id", "phone_number", "tags", "agent_id", "status")) == before


@pytest.mark.postgres
def test_the_command_seeds_only_an_empty_sandbox_unless_told_to_reset(db):
    out = StringIO()
    call_command("seed_sandbox", stdout=out)
    call_command("seed_sandbox", stdout=out)
    assert "seeded" in out.getvalue() and "already has data" in out.getvalue()
    assert PhoneNumber.objects.count() == 67
    PhoneNumber.objects.filter(pk=1001).update(tags=["changed"])
    call_command("seed_sandbox", "--reset", stdout=out)
    assert PhoneNumber.objects.get(pk=1001).tags != ["changed"]
    assert PhoneNumber.objects.count() == 67


@pytest.mark.postgres
def test_an_empty_sandbox_seeds_itself_on_its_first_call(db, client):
    from .conftest import Api

    assert Api(client).get("credits").json()["balance"] == 42.5
