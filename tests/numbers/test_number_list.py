"""The owned-numbers page against the seeded sandbox (60 numbers, 3 pending release)."""

import re

import pytest

from numbers_app import staffify

HX = {"HX-Request": "true"}


def row_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="number-(\d+)"', html)]


@pytest.mark.django_db
def test_it_shows_the_first_50_numbers_with_a_load_more_row(ops, staffify_sandbox):
    response = ops.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert row_ids(html) == list(range(1001, 1051))
    assert 'id="load-more"' in html and 'hx-trigger="revealed"' in html
    assert "?after=1050" in html


@pytest.mark.django_db
def test_load_more_returns_only_the_next_rows(ops, staffify_sandbox):
    response = ops.get("/?after=1050", headers={**HX, "HX-Target": "load-more"})
    html = response.content.decode()
    assert row_ids(html) == list(range(1051, 1061))
    assert 'id="load-more"' not in html
    assert "<html" not in html


@pytest.mark.django_db
def test_numbers_are_formatted_for_humans_with_their_country(ops, staffify_sandbox):
    assert staffify_sandbox.get("/v1/phone-numbers/1001").json()["phone_number"] == "+12125211128"
    html = ops.get("/").content.decode()
    row = re.search(r'<tr id="number-1001".*?</tr>', html, re.S).group(0)
    assert "+1 212-521-1128</a>" in row
    assert '<span class="country">US</span>' in row


@pytest.mark.django_db
def test_pending_numbers_show_a_countdown_to_their_deadline(ops, staffify_sandbox):
    number = staffify_sandbox.get("/v1/phone-numbers/1036").json()
    html = ops.get("/").content.decode()
    deadline = staffify.parse_datetime(number["reclaim_before"])
    row = re.search(r'<tr id="number-1036".*?</tr>', html, re.S).group(0)
    assert "pending release" in row
    assert f'data-deadline="{deadline.isoformat()}"' in row
    assert "data-reclaim" in row


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "check"),
    [
        ("status=pending_release", lambda n: n["status"] == "pending_release"),
        ("agent=none", lambda n: n["agent_id"] is None),
        ("agent=106", lambda n: n["agent_id"] == 106),
        ("tag=berlin", lambda n: "berlin" in n["tags"]),
        ("tag=BERLIN", lambda n: "berlin" in n["tags"]),
        ("country=NL", lambda n: n["phone_number"].startswith("+31")),
        ("q=415", lambda n: "415" in n["phone_number"]),
    ],
)
def test_filters_cover_the_whole_account(ops, staffify_sandbox, query, check):
    everything = staffify_sandbox.get("/v1/phone-numbers?limit=100").json()["phone_numbers"]
    expected = [n["id"] for n in everything if check(n)]
    assert expected, "the seed should have matches for every filter"
    html = ops.get(f"/?{query}", headers={**HX, "HX-Target": "numbers-table"}).content.decode()
    assert row_ids(html) == expected[:50]
    assert f"{len(expected)} of 60 numbers match" in html
    assert "The filter covered the whole account." in html


@pytest.mark.django_db
def test_filters_combine(ops, staffify_sandbox):
    everything = staffify_sandbox.get("/v1/phone-numbers?limit=100").json()["phone_numbers"]
    expected = [n["id"] for n in everything if n["phone_number"].startswith("+49") and "sales" in n["tags"]]
    html = ops.get("/?country=DE&tag=sales").content.decode()
    assert row_ids(html) == expected


@pytest.mark.django_db
def test_a_filter_with_more_than_50_matches_pages_by_offset(ops, staffify_sandbox):
    html = ops.get("/?status=active").content.decode()
    assert len(row_ids(html)) == 50
    assert "offset=50" in html
    more = ops.get("/?status=active&offset=50", headers={**HX, "HX-Target": "load-more"}).content.decode()
    assert len(row_ids(more)) == 57 - 50


@pytest.mark.django_db
def test_a_filter_says_so_when_the_account_is_larger_than_it_scans(ops, staffify_sandbox, monkeypatch):
    monkeypatch.setattr("numbers_app.lookups.SCAN_LIMIT", 30)
    html = ops.get("/?status=active").content.decode()
    assert "This filter covered only the first 30 numbers of the account" in html


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["q=abc", "country=Netherlands", "agent=robert", "status=gone", "after=%3Cscript%3E"])
def test_bad_filter_input_is_explained_in_place(ops, staffify_sandbox, query):
    response = ops.get(f"/?{query}")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="banner error"' in html
    assert "<script>" not in html
    assert len(row_ids(html)) == 50  # and the unfiltered list still shows


@pytest.mark.django_db
def test_a_staffify_outage_is_a_banner_not_an_error_page(ops, staffify_sandbox):
    staffify_sandbox.post("/control/faults", json={"status": 503, "count": 5, "path_prefix": "/v1/phone-numbers"})
    response = ops.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Staffify is having trouble (HTTP 503). Nothing was changed." in html
    assert re.search(r"Staffify request id req_\w+", html)


@pytest.mark.django_db
def test_the_unfiltered_page_makes_at_most_two_staffify_calls_once_agents_are_cached(ops, staffify_sandbox):
    ops.get("/")  # warms the agent cache
    with staffify.track_calls() as stats:
        ops.get("/")
    assert stats.calls <= 2


@pytest.mark.django_db
def test_the_page_reports_its_staffify_calls_in_server_timing(ops, staffify_sandbox):
    response = ops.get("/")
    assert re.search(r'staffify;dur=[\d.]+;desc="\d+ calls", app;dur=[\d.]+', response["Server-Timing"])


@pytest.mark.django_db
@pytest.mark.parametrize("status", [500, 503, 429])
def test_load_more_says_what_failed_in_place_with_the_request_id(ops, staffify_sandbox, status):
    staffify_sandbox.post(
        "/control/faults", json={"status": status, "count": 1, "path_prefix": "/v1/phone-numbers", "method": "GET"}
    )
    response = ops.get("/?after=1050", headers={**HX, "HX-Target": "load-more"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="load-more"' in html and "The next numbers could not be loaded." in html
    assert "Staffify request id req_" in html
    assert 'hx-get="/?after=1050"' in html and "Try loading more again" in html
    # The same request again loads the rows: the list goes on where it stopped.
    again = ops.get("/?after=1050", headers={**HX, "HX-Target": "load-more"}).content.decode()
    assert 'id="number-1051"' in again and "could not be loaded" not in again
