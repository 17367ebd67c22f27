"""An id that no Staffify number can have is a 404 on every number URL, never a 500, on either database
(the fault probe found `POST /numbers/9999…9/agent` overflowing the database's 64-bit integers)."""

import pytest
from django.urls import reverse

from numbers_app.web.converters import MAX_STAFFIFY_ID
from tests.dashboard.test_login_everywhere import all_routes
from tests.helpers import HX

# A project's number pages (the unnamed ones are the same pages at their URLs from before projects).
NUMBER_ROUTES = [(route, name) for route, name in all_routes() if "<staffify_id:number_id>" in route and name]
IMPOSSIBLE = ["999999999999999999999999999999", str(MAX_STAFFIFY_ID + 1), "1" * 400]


def test_the_walk_finds_every_number_url():
    assert {name for _, name in NUMBER_ROUTES} >= {
        "number_detail",
        "assign_agent",
        "save_tags",
        "tags_editor",
        "tags_display",
        "release_dialog",
        "release_number",
        "reclaim_number",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "name"), NUMBER_ROUTES)
def test_an_impossible_id_is_not_found(client, admin_user, staffify_sandbox, route, name):
    client.force_login(admin_user)
    for number_id in IMPOSSIBLE:
        path = "/" + route.replace("<slug:project>", "main").replace("<staffify_id:number_id>", number_id)
        for method in ("get", "post"):
            for headers in ({}, HX):
                response = getattr(client, method)(path, {"agent_id": "101", "tags": "a"}, headers=headers)
                assert response.status_code == 404, (method, path, headers, response.status_code)
                assert "There is nothing at this address" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "name"), NUMBER_ROUTES)
def test_the_largest_possible_id_is_answered_without_a_server_error(client, admin_user, staffify_sandbox, route, name):
    client.force_login(admin_user)
    path = reverse(name, args=["main", MAX_STAFFIFY_ID])
    for method in ("get", "post"):
        response = getattr(client, method)(path, {"agent_id": "101", "tags": "a"}, headers=HX)
        assert response.status_code < 500, (method, path, response.status_code, response.content[:300])


def test_ids_round_trip_through_reverse():
    assert reverse("number_detail", args=["main", 1001]) == "/p/main/numbers/1001/"
    assert reverse("assign_agent", args=["main", MAX_STAFFIFY_ID]) == f"/p/main/numbers/{MAX_STAFFIFY_ID}/agent"
