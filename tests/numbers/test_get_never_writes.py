"""A page only reads: a GET of the billing page or of a number's page writes nothing to the dashboard's
own tables. The number's page refreshes the number's mirror row only when Staffify reports something
that differs from it, and moves the mirror's version (which throws away the owned list's cached
counts) only when what changed is something those counts depend on."""

from dataclasses import replace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from numbers_app import mirror, staffify
from numbers_app.models import NumberRecord, NumberTag

pytestmark = pytest.mark.django_db

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def dashboard_writes(queries) -> list[str]:
    """The statements that changed the dashboard's own tables (the in-process sandbox stands in for
    Staffify: what it writes is Staffify's business)."""
    return [
        q["sql"]
        for q in queries
        if q["sql"].lstrip().upper().startswith(WRITES) and "sandbox_" not in q["sql"].split("(")[0]
    ]


def get(client, path: str) -> tuple[str, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return response.content.decode(), dashboard_writes(queries.captured_queries)


# --- the number's page ---------------------------------------------------------------------------


def test_the_number_page_writes_nothing_when_staffify_says_what_the_mirror_says(ops, mirrored):
    version = mirror.version()
    before = NumberRecord.objects.get(staffify_id=1001)

    html, writes = get(ops, "/numbers/1001/")

    assert 'id="number-1001"' in html
    assert writes == []
    assert mirror.version() == version  # the list's cached counts are kept
    assert NumberRecord.objects.get(staffify_id=1001).last_seen_at == before.last_seen_at


def test_the_number_page_refreshes_its_row_when_staffify_reports_a_change(ops, mirrored):
    mirrored.put("/v1/phone-numbers/1001/assign", json={"agent_id": 106})  # changed outside the dashboard
    version = mirror.version()

    html, writes = get(ops, "/numbers/1001/")

    assert writes  # the row follows what Staffify said
    record = NumberRecord.objects.get(staffify_id=1001)
    assert record.agent_id == 106
    assert mirror.version() > version  # an agent filter's count changed: the cached counts go

    _, again = get(ops, "/numbers/1001/")
    assert again == []  # now the row says what Staffify says


def test_a_change_no_count_depends_on_keeps_the_counts(mirrored):
    record = NumberRecord.objects.get(staffify_id=1001)
    number = replace(mirror.as_number(record), agent_name="Renamed outside", number_type="toll_free")
    version = mirror.version()

    refreshed = mirror.refresh_if_changed(number)

    assert (refreshed.agent_name, refreshed.number_type) == ("Renamed outside", "toll_free")
    assert NumberRecord.objects.get(staffify_id=1001).agent_name == "Renamed outside"
    assert mirror.version() == version  # names and types are no filter: every count still holds


def test_a_number_the_mirror_does_not_know_is_added(mirrored):
    number = staffify.PhoneNumber(id=999_001, phone_number="+12065550199", status="active", tags=("new",))
    version = mirror.version()

    record = mirror.refresh_if_changed(number)

    assert record.pk and mirror.owned().filter(staffify_id=999_001).exists()
    assert list(NumberTag.objects.filter(tag="new").values_list("staffify_id", flat=True)) == [999_001]
    assert mirror.version() > version
