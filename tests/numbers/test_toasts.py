"""Each kind of change says which counting toast it belongs to, so the page shows one toast that
counts ("3 numbers moved") instead of a stack; failures are not counted (they stay, one by one)."""

import json

import pytest

from tests.helpers import HX, toast_of


@pytest.mark.django_db
def test_assignments_count_as_numbers_moved(support, mirrored):
    assigned = toast_of(support.post("/p/main/numbers/1001/agent", {"agent_id": "110"}, headers=HX))
    unassigned = toast_of(support.post("/p/main/numbers/1001/agent", {"agent_id": ""}, headers=HX))
    for toast in (assigned, unassigned):
        assert (toast["level"], toast["group"], toast["many"]) == ("success", "agent", "{n} numbers moved")
    assert assigned["message"].endswith("assigned to Survey Caller.")
    assert unassigned["message"].endswith("unassigned.")


@pytest.mark.django_db
def test_saved_tags_count_as_tag_changes(support, mirrored):
    toast = toast_of(support.post("/p/main/numbers/1002/tags", {"tags": "vip", "original": ""}, headers=HX))
    assert (toast["group"], toast["many"]) == ("tags", "{n} tag changes saved")


@pytest.mark.django_db
def test_a_failure_is_not_counted(support, mirrored):
    mirrored.post("/control/faults", json={"status": 503, "count": 1, "path_prefix": "/v1/phone-numbers/1002"})
    response = support.post("/p/main/numbers/1002/tags", {"tags": "vip", "original": ""}, headers=HX)
    assert response.status_code == 422
    assert "toast" not in json.loads(response.get("HX-Trigger") or "{}")


@pytest.mark.django_db
def test_releases_count(ops, mirrored):
    toast = toast_of(ops.post("/p/main/numbers/1001/release/confirm", {"unassign_first": "1"}, headers=HX))
    assert (toast["group"], toast["many"]) == ("release", "{n} numbers released")
