"""The owned-numbers page: the seeded sandbox (60 numbers, 3 pending release) as the mirror has it."""

import re

import pytest

from numbers_app import staffify
from tests.helpers import HX

# On the PostgreSQL pass too (@pytest.mark.postgres): the owned list's queries, i.e. filters (LIKE,
# case-folded tags), sorts (NULLS LAST), paging, the count.


def row_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="number-(\d+)"', html)]


@pytest.mark.django_db
@pytest.mark.postgres
def test_it_shows_the_first_50_numbers_with_a_load_more_row(ops, mirrored):
    response = ops.get("/p/main/")
    html = response.content.decode()
    assert response.status_code == 200
    assert row_ids(html) == list(range(1001, 1051))
    assert 'id="load-more"' in html and 'hx-trigger="revealed"' in html
    assert "?offset=50" in html
    assert "60 numbers in the account, showing 1–50." in html


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["offset=50", "after=1050"], ids=["offset", "a bookmarked Staffify cursor"])
@pytest.mark.postgres
def test_load_more_returns_only_the_next_rows(ops, mirrored, query):
    response = ops.get(f"/p/main/?{query}", headers={**HX, "HX-Target": "load-more"})
    html = response.content.decode()
    assert row_ids(html) == list(range(1051, 1061))
    assert 'id="load-more"' not in html
    assert "<html" not in html


@pytest.mark.django_db
def test_numbers_are_formatted_for_humans_with_their_country(ops, mirrored):
    assert mirrored.get("/v1/phone-numbers/1001").json()["phone_number"] == "+12125211128"
    html = ops.get("/p/main/").content.decode()
    row = re.search(r'<tr id="number-1001".*?</tr>', html, re.S).group(0)
    assert "+1 212-521-1128</a>" in row
    assert '<span class="country">US</span>' in row


@pytest.mark.django_db
def test_pending_numbers_show_a_countdown_to_their_deadline(ops, mirrored):
    number = mirrored.get("/v1/phone-numbers/1036").json()
    html = ops.get("/p/main/").content.decode()
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
@pytest.mark.postgres
def test_filters_cover_the_whole_account(ops, mirrored, query, check):
    everything = mirrored.get("/v1/phone-numbers?limit=100").json()["phone_numbers"]
    expected = [n["id"] for n in everything if check(n)]
    assert expected, "the seed should have matches for every filter"
    html = ops.get(f"/p/main/?{query}", headers={**HX, "HX-Target": "numbers-table"}).content.decode()
    assert row_ids(html) == expected[:50]
    assert f"{len(expected)} number{'s' if len(expected) > 1 else ''} match" in html


@pytest.mark.django_db
@pytest.mark.postgres
def test_filters_combine(ops, mirrored):
    everything = mirrored.get("/v1/phone-numbers?limit=100").json()["phone_numbers"]
    expected = [n["id"] for n in everything if n["phone_number"].startswith("+49") and "sales" in n["tags"]]
    html = ops.get("/p/main/?country=DE&tag=sales").content.decode()
    assert row_ids(html) == expected


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_filter_with_more_than_50_matches_pages_by_offset(ops, mirrored):
    html = ops.get("/p/main/?status=active").content.decode()
    assert len(row_ids(html)) == 50
    assert "offset=50" in html
    more = ops.get("/p/main/?status=active&offset=50", headers={**HX, "HX-Target": "load-more"}).content.decode()
    assert len(row_ids(more)) == 57 - 50


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query", ["q=1234567890123456", "country=Netherlands", "agent=robert", "status=gone", "after=%3Cscript%3E"]
)
def test_bad_filter_input_is_explained_in_place(ops, mirrored, query):
    response = ops.get(f"/p/main/?{query}")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="banner error"' in html
    assert "<script>" not in html
    assert len(row_ids(html)) == 50  # and the unfiltered list still shows


@pytest.mark.django_db
def test_a_staffify_outage_does_not_touch_the_list(ops, mirrored):
    mirrored.post("/control/faults", json={"status": 503, "count": 50, "path_prefix": "/v1"})
    response = ops.get("/p/main/")
    assert response.status_code == 200
    assert len(row_ids(response.content.decode())) == 50


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    ["", "?status=active", "?agent=106", "?tag=berlin", "?country=NL", "?q=415", "?sort=-next_charge", "?offset=50"],
)
def test_pages_make_no_staffify_call(ops, mirrored, query):
    ops.get("/p/main/")  # the header's balance is cached after the first page
    with staffify.track_calls() as stats:
        assert ops.get(f"/p/main/{query}").status_code == 200
        ops.get(f"/p/main/{query}", headers={**HX, "HX-Target": "numbers-table"})
    assert stats.calls == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("number", lambda n: n["phone_number"]),
        ("-number", lambda n: n["phone_number"]),
        ("agent", lambda n: n["agent_name"] or ""),
        ("status", lambda n: n["status"]),
    ],
)
@pytest.mark.postgres
def test_columns_sort_the_whole_account(ops, mirrored, sort, key):
    everything = mirrored.get("/v1/phone-numbers?limit=100").json()["phone_numbers"]
    ordered = sorted(everything, key=lambda n: (key(n), n["id"]), reverse=False)
    if sort.startswith("-"):
        ordered = sorted(everything, key=lambda n: key(n), reverse=True)
    html = ops.get(f"/p/main/?sort={sort}").content.decode()
    shown = row_ids(html)
    if sort in ("number", "-number"):
        assert shown == [n["id"] for n in ordered][:50]
    else:
        values = [key(next(n for n in everything if n["id"] == i)) for i in shown]
        assert values == sorted(values)
    assert 'aria-sort="' in html


@pytest.mark.django_db
def test_the_page_says_how_fresh_the_mirror_is_and_offers_a_refresh(ops, mirrored):
    html = ops.get("/p/main/").content.decode()
    assert re.search(r"Synced with Staffify .*: just now\.", html)
    assert 'hx-post="/p/main/sync/"' in html and "Refresh now" in html


@pytest.mark.django_db
def test_the_page_reports_its_staffify_calls_in_server_timing(ops, mirrored):
    response = ops.get("/p/main/")
    assert re.search(r'staffify;dur=[\d.]+;desc="\d+ calls", app;dur=[\d.]+', response["Server-Timing"])


def _database_down(*args, **kwargs):
    from django.db import OperationalError

    raise OperationalError("database is locked")


@pytest.mark.django_db
def test_load_more_says_in_place_when_the_mirror_cannot_be_read(ops, mirrored, monkeypatch):
    from numbers_app.mirror import listing

    monkeypatch.setattr(listing, "agents", _database_down)
    response = ops.get("/p/main/?status=active&offset=50", headers={**HX, "HX-Target": "load-more"})
    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps only 2xx: the row must arrive to be shown
    assert 'id="load-more"' in html and "row-error" in html
    assert "database did not answer" in html
    assert re.search(r"Reference [0-9a-f]{12}", html)
    assert 'hx-get="/p/main/?status=active&amp;offset=50"' in html  # try again loads the same rows


@pytest.mark.django_db
def test_the_list_says_in_place_when_the_mirror_cannot_be_read(ops, mirrored, monkeypatch):
    from numbers_app.mirror import listing

    monkeypatch.setattr(listing, "agents", _database_down)
    table = ops.get("/p/main/?tag=sales", headers={**HX, "HX-Target": "numbers-table"})
    assert table.status_code == 200 and "database did not answer" in table.content.decode()
    page = ops.get("/p/main/?tag=sales")
    assert page.status_code == 503
    html = page.content.decode()
    assert "database did not answer" in html and "This account owns no numbers" not in html


@pytest.mark.django_db
def test_an_unexpected_error_gives_a_reference_found_in_the_log(ops, mirrored, monkeypatch, caplog):
    from numbers_app.mirror import listing

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(listing, "rows", broken)
    ops.raise_request_exception = False
    response = ops.get("/p/main/", headers=HX)
    assert response.status_code == 500
    reference = response["X-Error-Reference"]
    assert re.fullmatch(r"[0-9a-f]{12}", reference)
    html = response.content.decode()
    assert reference in html and "a bug" not in html
    assert "whether it reached Staffify is not known" in html
    assert any(reference in r.getMessage() and r.exc_info for r in caplog.records)
