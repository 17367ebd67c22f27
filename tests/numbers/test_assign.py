"""The agent dropdown: choose an agent to assign, '— no agent —' to unassign; the row re-renders."""

import re

import pytest

from numbers_app import staffify
from tests.helpers import HX, state


def selected_agent(html: str) -> str:
    select = re.search(r"<select data-agent-select.*?</select>", html, re.S).group(0)
    found = re.search(r'<option value="(\d*)" selected>', select)
    return found.group(1) if found else ""


@pytest.mark.django_db
def test_it_assigns_the_chosen_agent(support, staffify_sandbox):
    response = support.post("/p/main/numbers/1001/agent", {"agent_id": "110"}, headers=HX)
    assert response.status_code == 200
    assert state(staffify_sandbox, 1001)["agent_id"] == 110
    html = response.content.decode()
    assert html.lstrip().startswith('<tr id="number-1001"')
    assert selected_agent(html) == "110"
    assert "Survey Caller" in response["HX-Trigger"]


@pytest.mark.django_db
def test_it_reassigns_without_unassigning_first(support, staffify_sandbox):
    support.post("/p/main/numbers/1001/agent", {"agent_id": "110"}, headers=HX)
    support.post("/p/main/numbers/1001/agent", {"agent_id": "103"}, headers=HX)
    assert state(staffify_sandbox, 1001)["agent_id"] == 103


@pytest.mark.django_db
def test_no_agent_unassigns(support, staffify_sandbox):
    response = support.post("/p/main/numbers/1001/agent", {"agent_id": ""}, headers=HX)
    assert state(staffify_sandbox, 1001)["agent_id"] is None
    assert selected_agent(response.content.decode()) == ""
    assert "unassigned" in response["HX-Trigger"]


@pytest.mark.django_db
def test_an_assign_round_trip_makes_at_most_two_staffify_calls(support, mirrored):
    support.get("/p/main/")  # the balance cached, as on the page the user is looking at; agents come from the mirror
    with staffify.track_calls() as stats:
        support.post("/p/main/numbers/1001/agent", {"agent_id": "110"}, headers=HX)
    assert stats.calls <= 2


@pytest.mark.django_db
def test_an_unknown_agent_is_refused_and_the_select_shows_the_truth(support, staffify_sandbox):
    before = state(staffify_sandbox, 1001)["agent_id"]
    response = support.post("/p/main/numbers/1001/agent", {"agent_id": "900"}, headers=HX)
    html = response.content.decode()
    assert "That agent is not in this account&#x27;s agent list." in html
    assert selected_agent(html) == str(before)
    assert state(staffify_sandbox, 1001)["agent_id"] == before


@pytest.mark.django_db
def test_unassigning_a_number_without_agent_says_why(support, staffify_sandbox):
    support.post("/p/main/numbers/1001/agent", {"agent_id": ""}, headers=HX)
    response = support.post("/p/main/numbers/1001/agent", {"agent_id": ""}, headers=HX)
    html = response.content.decode()
    assert "No agent is assigned to this number, so there was nothing to unassign." in html
    assert "Request id req_" in html


@pytest.mark.django_db
def test_a_staffify_failure_leaves_the_row_showing_the_true_state(support, staffify_sandbox):
    before = state(staffify_sandbox, 1001)["agent_id"]
    support.get("/p/main/")
    staffify_sandbox.post(
        "/control/faults", json={"status": 503, "count": 1, "path_prefix": "/v1/phone-numbers/1001/assign"}
    )
    response = support.post("/p/main/numbers/1001/agent", {"agent_id": "110"}, headers=HX)
    html = response.content.decode()
    assert "Staffify is having trouble (HTTP 503). Nothing was changed: the dashboard checked." in html
    assert selected_agent(html) == str(before)
    assert 'class="row-error"' in html


@pytest.mark.django_db
def test_a_team_lead_cannot_assign(lead, staffify_sandbox):
    before = state(staffify_sandbox, 1001)["agent_id"]
    response = lead.post("/p/main/numbers/1001/agent", {"agent_id": "110"}, headers=HX)
    assert response.status_code == 403
    assert "Your role (Team lead) cannot assign agents." in response["HX-Trigger"]
    assert state(staffify_sandbox, 1001)["agent_id"] == before


@pytest.mark.django_db
def test_it_refuses_get(support, staffify_sandbox):
    assert support.get("/p/main/numbers/1001/agent").status_code == 405


@pytest.mark.django_db
def test_it_needs_the_csrf_token(support_user, staffify_sandbox):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(support_user)
    assert client.post("/p/main/numbers/1001/agent", {"agent_id": "110"}, headers=HX).status_code == 403
