"""The buy confirmation chooses the new number's agent and tags: after the purchase they are asked
for (each audited ahead); a failure is said plainly and the purchase stands. The search stays."""

import pytest

from numbers_app.models import AuditEntry, NumberRecord
from tests.helpers import toast_of
from tests.numbers.buying import balance, buy, confirm, owned, search, token_of


@pytest.mark.django_db
def test_the_confirmation_offers_an_agent_and_tags(ops, mirrored):
    number = search(mirrored, country_code="US", limit=1)[0]
    html = confirm(ops, number)
    assert '<select id="buy-agent" name="agent_id">' in html
    assert '<option value="110">Survey Caller</option>' in html
    assert 'id="buy-tags" name="tags"' in html and "data-tags-input" in html


@pytest.mark.django_db
def test_it_buys_assigns_and_tags(ops, mirrored):
    number = search(mirrored, country_code="US", area_code="212", limit=1)[0]
    response = buy(ops, number, token_of(confirm(ops, number)), agent_id="110", tags="vip, night")
    bought = owned(mirrored)[number["phone_number"]]
    assert bought["agent_id"] == 110 and bought["tags"] == ["vip", "night"]
    html = response.content.decode()
    assert "assigned to Survey Caller, tagged vip, night." in html
    assert f'href="/p/main/numbers/{bought["id"]}/"' in html
    message = toast_of(response)
    assert message["level"] == "success"
    assert ", assigned to Survey Caller, tagged vip, night: EUR 5.00 now and every 28 days." in message["message"]
    entries = [(e.action, e.outcome) for e in AuditEntry.objects.order_by("at", "id")]
    assert entries == [("buy", "ok"), ("assign", "ok"), ("tags", "ok")]
    record = NumberRecord.objects.get(staffify_id=bought["id"])
    assert record.agent_id == 110 and record.tags == ["vip", "night"]


@pytest.mark.django_db
def test_invalid_tags_buy_nothing(ops, mirrored):
    number = search(mirrored, country_code="US", limit=1)[0]
    tags = ", ".join(f"tag{i}" for i in range(21))
    response = buy(ops, number, token_of(confirm(ops, number)), tags=tags)
    assert response.status_code == 422
    assert "Nothing was bought: tags: At most 20 tags: this has 21." in toast_of(response)["message"]
    assert number["phone_number"] not in owned(mirrored)
    assert balance(mirrored) == 42.5


@pytest.mark.django_db
def test_an_agent_not_in_the_account_buys_nothing(ops, mirrored):
    number = search(mirrored, country_code="US", limit=1)[0]
    response = buy(ops, number, token_of(confirm(ops, number)), agent_id="900")  # another project's agent
    assert response.status_code == 422
    assert "that agent is not in this account's agent list" in toast_of(response)["message"]
    assert number["phone_number"] not in owned(mirrored)


@pytest.mark.django_db
def test_tags_refused_by_staffify_are_said_and_the_purchase_stands(ops, mirrored):
    number = search(mirrored, country_code="US", limit=1)[0]
    token = token_of(confirm(ops, number))
    mirrored.post(
        "/control/faults", json={"status": 400, "count": 1, "method": "PATCH", "path_prefix": "/v1/phone-numbers/"}
    )
    response = buy(ops, number, token, agent_id="103", tags="vip")
    bought = owned(mirrored)[number["phone_number"]]
    assert bought["status"] == "active" and bought["agent_id"] == 103 and bought["tags"] == []
    assert balance(mirrored) == 37.5
    html = response.content.decode()
    assert 'role="alert">The purchase stands. Saving its tags failed:' in html
    assert "assigned to Billing Helper" in html
    message = toast_of(response)
    assert message["level"] == "warning" and "The purchase stands, but: Saving its tags failed" in message["message"]
    tags = AuditEntry.objects.get(action="tags")
    assert tags.outcome == "error" and tags.number_id == bought["id"]
    assert AuditEntry.objects.get(action="buy").outcome == "ok"


@pytest.mark.django_db
def test_an_assignment_staffify_refuses_is_said_and_the_tags_still_go(ops, mirrored):
    number = search(mirrored, country_code="US", limit=1)[0]
    token = token_of(confirm(ops, number))
    mirrored.post(
        "/control/faults", json={"status": 404, "count": 1, "method": "PUT", "path_prefix": "/v1/phone-numbers/"}
    )
    response = buy(ops, number, token, agent_id="103", tags="vip")
    bought = owned(mirrored)[number["phone_number"]]
    assert bought["agent_id"] is None and bought["tags"] == ["vip"]
    assert "Assigning it to Billing Helper failed" in response.content.decode()
    assert AuditEntry.objects.get(action="assign").outcome == "error"


@pytest.mark.django_db
def test_support_may_not_choose_for_a_purchase_it_cannot_make(support, mirrored):
    number = search(mirrored, country_code="US", limit=1)[0]
    response = buy(support, number, "00000000-0000-0000-0000-000000000000", agent_id="103")
    assert response.status_code == 403
    assert number["phone_number"] not in owned(mirrored)
