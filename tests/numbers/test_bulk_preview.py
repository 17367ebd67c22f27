"""The preview of a bulk action: counts from the mirror (0 Staffify calls), reasons, roles, saving."""

import re
from decimal import Decimal

import pytest

from numbers_app import staffify
from numbers_app.models import AuditEntry, BulkJob
from tests.helpers import HX

from .bulking import sales, selection


@pytest.mark.django_db
def test_it_counts_changes_skips_and_what_cannot_be_done(support, mirrored):
    numbers = sales()
    already = [r for r in numbers if r.agent_id == 102 and r.last_status == "active"]
    pending = [r for r in numbers if r.last_status != "active"]
    assert already, "the seed has 'sales' numbers on agent 102"
    with staffify.track_calls() as stats:
        response = support.post("/p/main/bulk/preview", selection(numbers, action="assign", agent_id="102"), headers=HX)
    assert response.status_code == 200
    assert stats.calls == 0  # the mirror answers
    html = response.content.decode()
    change = len(numbers) - len(already) - len(pending)
    assert f'<strong data-preview="change">{change}</strong>' in html
    assert f'<strong data-preview="skip">{len(already)}</strong>' in html
    assert f'<strong data-preview="cannot">{len(pending)}</strong>' in html
    assert "<dialog" in html and "Run: change" in html
    # From which agents (issue 26): every changed number counted under its present agent.
    changed = [r for r in numbers if r.last_status == "active" and r.agent_id != 102]
    was = re.search(r'<span data-preview="was">([^<]+)</span>', html).group(1)
    assert sum(int(n) for n in re.findall(r"\((\d+)\)", was)) == change == len(changed)
    if any(r.agent_id is None for r in changed):
        assert "no agent (" in was


@pytest.mark.django_db
def test_select_all_resolves_the_filter_on_the_server(support, mirrored):
    numbers = sales()
    response = support.post(
        "/p/main/bulk/preview",
        {"scope": "filter", "filter": "tag=sales", "quick": "assign", "agent_id": "110"},
        headers=HX,
    )
    html = response.content.decode()
    assert f"for {len(numbers)} number" in html
    assert 'name="scope" value="filter"' in html and 'name="filter" value="tag=sales"' in html


@pytest.mark.django_db
def test_release_states_the_saving_and_refuses_numbers_with_an_agent_unless_asked(ops, mirrored):
    numbers = [r for r in sales() if r.last_status == "active"]
    with_agent = [r for r in numbers if r.agent_id]
    free = len(numbers) - len(with_agent)
    html = ops.post("/p/main/bulk/preview", selection(numbers, action="release"), headers=HX).content.decode()
    assert f'<strong data-preview="cannot">{len(with_agent)}</strong>' in html
    assert "has an agent" in html
    assert f"EUR {Decimal('5.00') * free}" in html
    html = ops.post(
        "/p/main/bulk/preview", selection(numbers, action="release", unassign_first="1"), headers=HX
    ).content.decode()
    assert f'<strong data-preview="change">{len(numbers)}</strong>' in html
    assert f"EUR {Decimal('5.00') * len(numbers)}" in html
    assert f"({len(numbers) + len(with_agent)} Staffify calls)" in html  # unassign, then release


@pytest.mark.django_db
def test_a_role_without_the_permission_sees_why_and_cannot_start(support, mirrored):
    numbers = sales()
    html = support.post("/p/main/bulk/preview", selection(numbers, action="release"), headers=HX).content.decode()
    assert "cannot release numbers" in html
    assert f'<strong data-preview="cannot">{len(numbers)}</strong>' in html
    response = support.post("/p/main/bulk/start", selection(numbers, action="release"), headers=HX)
    assert response.status_code == 403
    assert not BulkJob.objects.exists()
    assert AuditEntry.objects.filter(action="bulk", outcome="denied").exists()


@pytest.mark.django_db
def test_tags_over_the_limit_cannot_be_added(support, mirrored):
    numbers = sales()[:2]
    many = ", ".join(f"t{i}" for i in range(20))
    html = support.post(
        "/p/main/bulk/preview", selection(numbers, action="add_tags", tags=many), headers=HX
    ).content.decode()
    assert "at most 20" in html
    assert '<strong data-preview="change">0</strong>' in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"scope": "ids", "ids": "1,x", "action": "unassign"}, "not a list of numbers"),
        ({"scope": "ids", "ids": "", "action": "unassign"}, "Nothing is selected"),
        ({"scope": "filter", "filter": "q=1234567890123456", "action": "unassign"}, "filter is not valid"),
        ({"scope": "ids", "ids": "1001", "action": "assign", "agent_id": "999999"}, "Choose an agent"),
        ({"scope": "ids", "ids": "1001", "action": "add_tags", "tags": ""}, "Type the tags"),
        ({"scope": "ids", "ids": "1001", "action": "explode"}, "Select a valid choice"),
        ({"scope": "ids", "ids": "5", "action": "unassign"}, "None of the selected numbers"),
    ],
)
def test_bad_input_gets_a_message_not_a_500(support, mirrored, data, message):
    response = support.post("/p/main/bulk/preview", data, headers=HX)
    assert response.status_code == 422
    assert message in response["HX-Trigger"]
    assert support.post("/p/main/bulk/start", data).status_code == 422


@pytest.mark.django_db
def test_an_action_registered_later_appears_in_the_bar_and_previews(support, mirrored, monkeypatch):
    """How another module (e.g. scheduled_releases.py) plugs an action in: one register() call."""
    from numbers_app.bulk import jobs as bulk

    monkeypatch.setattr(bulk, "ACTIONS", dict(bulk.ACTIONS))

    def plan(number, params, user):
        return bulk.skip("nothing to do") if number.agent_id is None else bulk.cannot("not today")

    bulk.register(bulk.BulkAction("check_only", "Check only", "numbers.edit_tags", plan))
    bar = support.get("/p/main/bulk/bar", headers=HX).content.decode()
    assert '<option value="check_only">Check only</option>' in bar
    numbers = sales()
    html = support.post("/p/main/bulk/preview", selection(numbers, action="check_only"), headers=HX).content.decode()
    with_agent = sum(1 for r in numbers if r.agent_id)
    assert f'<strong data-preview="cannot">{with_agent}</strong>' in html
    assert f'<strong data-preview="skip">{len(numbers) - with_agent}</strong>' in html


@pytest.mark.django_db
def test_the_bar_offers_only_what_the_role_may_do(client, support_user, lead_user, mirrored):
    """The bar is fetched (bulk/bar, by static/js/bulk.js) when a checkbox is first reached; the list
    says where from."""
    client.force_login(support_user)
    assert 'id="bulk-bar-slot" data-url="/p/main/bulk/bar"' in client.get("/p/main/").content.decode()
    html = client.get("/p/main/bulk/bar", headers=HX).content.decode()
    assert 'value="add_tags"' in html and 'value="unassign"' in html and 'value="release"' not in html
    assert "Assign to" in html
    # "Other action" starts on a choice that does nothing (it once started on Unassign).
    assert re.search(r'<select name="action" data-bulk-action>\s*<option value="">Choose…</option>', html)
    client.force_login(lead_user)
    html = client.get("/p/main/bulk/bar", headers=HX).content.decode()
    assert "Your role cannot change numbers." in html and "Assign to" not in html
    assert "<select" not in html and "Preview…" not in html  # nothing to choose: no menu, no Preview


@pytest.mark.django_db
def test_the_bar_needs_a_signed_in_viewer_and_a_get(support, mirrored):
    from django.test import Client

    assert Client().get("/p/main/bulk/bar").status_code == 302  # to the sign-in page
    assert support.post("/p/main/bulk/bar", headers=HX).status_code == 405
