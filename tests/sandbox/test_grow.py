"""seed_sandbox --numbers/--agents: growing the demo account, walked by the API's cursor."""

from __future__ import annotations

import math
from collections import Counter
from io import StringIO

import phonenumbers
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sandbox import grow, inventory
from sandbox.models import Charge, PhoneNumber

from .conftest import CONTROL

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

N = 2500


def seed_sandbox(**options) -> str:
    out = StringIO()
    call_command("seed_sandbox", stdout=out, **options)
    return out.getvalue()


def walk(api) -> tuple[list[dict], int]:
    numbers, pages, after = [], 0, None
    while True:
        response = api.get("phone-numbers?limit=100" + (f"&after={after}" if after else ""))
        assert response.status_code == 200, response.content
        pages += 1
        numbers += response.json()["phone_numbers"]
        after = response.json()["next_cursor"]
        if after is None:
            return numbers, pages


def test_the_account_grows_to_n_numbers_walked_in_pages_of_100(api):
    output = seed_sandbox(numbers=N, agents=40)
    assert "Grew proj_demo by 30 agents and 2440 numbers in " in output and output.strip().endswith(" s.")
    api.put(CONTROL + "rate-limit", {"per_minute": 0})
    numbers, pages = walk(api)
    assert len(numbers) == N and pages == math.ceil(N / 100)
    assert len({n["id"] for n in numbers}) == N and len({n["phone_number"] for n in numbers}) == N
    assert [n["id"] for n in numbers] == sorted(n["id"] for n in numbers)
    agents = api.get("agents?limit=100").json()
    assert len(agents["agents"]) == 40 and agents["next_cursor"] is None


def test_the_grown_numbers_are_a_realistic_mix(api):
    seed_sandbox(numbers=N, agents=40)
    grown = list(PhoneNumber.objects.filter(project_id="proj_demo", id__gt=1060))
    statuses = Counter(n.status for n in grown)
    assert 0 < statuses["pending_release"] < 0.02 * len(grown)
    assigned = sum(n.agent_id is not None for n in grown)
    assert 0.6 < assigned / len(grown) < 0.8
    assert len({n.agent_id for n in grown if n.agent_id}) == 40
    tags = Counter(t for n in grown for t in n.tags)
    assert {"support", "sales", "berlin", "amsterdam"} <= set(tags)
    countries = Counter(n.country_code for n in grown)
    assert countries["US"] > countries["NL"] > 0 and countries["DE"] > 0
    ages = {n.purchased_at.date() for n in grown}
    assert len(ages) > 150  # purchases spread over months, so billing cycles differ
    assert len({n.paid_until.date() for n in grown if n.status == "active"}) > 25
    # Numbers outside the US carry the verified address of their country, as a purchase would.
    assert {n.address_id for n in grown if n.country_code == "NL"} == {7}
    assert {n.address_id for n in grown if n.country_code == "DE"} == {8}


def test_the_grown_numbers_are_valid_and_never_for_sale(api):
    seed_sandbox(numbers=N)
    for number in PhoneNumber.objects.filter(project_id="proj_demo", id__gt=1060):
        parsed = phonenumbers.parse(number.phone_number)
        assert phonenumbers.is_valid_number(parsed), number.phone_number
        assert inventory.find(number.phone_number) is None


def test_growing_bills_up_to_now_so_nothing_is_charged_later(api):
    balance = api.balance()
    seed_sandbox(numbers=N)
    assert api.balance() == balance
    for number in PhoneNumber.objects.filter(project_id="proj_demo", id__gt=1060)[:300]:
        assert Charge.objects.filter(number=number).count() == number.cycles_billed
        assert number.paid_until > number.purchased_at
    api.advance(days=28)  # every active number renews exactly once
    active = PhoneNumber.objects.filter(project__org_id="org_demo", status="active").count()  # one balance
    assert api.balance() == pytest.approx(balance - 5 * active)


def test_growing_again_to_the_same_size_does_nothing(api):
    seed_sandbox(numbers=N)
    first = list(PhoneNumber.objects.filter(project_id="proj_demo").values_list("id", "phone_number"))
    assert "by 0 agents and 0 numbers" in seed_sandbox(numbers=N)
    assert "by 0 agents and 0 numbers" in seed_sandbox(numbers=100)
    assert list(PhoneNumber.objects.filter(project_id="proj_demo").values_list("id", "phone_number")) == first


def test_growing_in_steps_gives_the_same_numbers_as_at_once(api):
    seed_sandbox(numbers=300)
    seed_sandbox(numbers=600)
    stepped = list(PhoneNumber.objects.filter(project_id="proj_demo").values_list("phone_number", flat=True))
    api.post(CONTROL + "reset")
    seed_sandbox(numbers=600)
    assert list(PhoneNumber.objects.filter(project_id="proj_demo").values_list("phone_number", flat=True)) == stepped


def test_a_purchase_after_growing_gets_the_next_id(api):
    seed_sandbox(numbers=200)
    number = api.search()[0]["phone_number"]
    assert api.post("phone-numbers", {"phone_number": number}).json()["id"] == 1201


def test_the_grown_blocks_stay_clear_of_the_inventory():
    for slot in grow.SLOTS:
        start = "+" + inventory.COUNTRIES[slot.country].calling_code + slot.prefix
        for block in inventory.BLOCKS:
            other = "+" + inventory.COUNTRIES[block.country].calling_code + block.prefix
            assert not (start.startswith(other) or other.startswith(start)), (slot, block)


def test_a_bad_size_is_refused(db):
    with pytest.raises(CommandError):
        seed_sandbox(numbers=-1)
