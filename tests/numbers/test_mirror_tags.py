"""The mirror's tag index (NumberTag) and the owned list's cached counts stay in step with the mirror:
after the first sync, after changes found by a later sync, after a write made here, and for gone numbers."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from numbers_app import staffify
from numbers_app.mirror import store as mirror
from numbers_app.models import NumberRecord, NumberTag
from tests.helpers import HX

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def without_support():
    return NumberRecord.objects.exclude(staffify_id__in=NumberTag.objects.filter(tag="support").values("staffify_id"))


def indexed() -> set[tuple[int, str]]:
    return set(NumberTag.objects.values_list("staffify_id", "tag"))


def expected() -> set[tuple[int, str]]:
    """What the index must hold: every owned number's tags, in lower case."""
    return {(r.staffify_id, t.lower()) for r in mirror.owned() for t in r.tags}


def total(html: str) -> int:
    found = re.search(r"(\d+) numbers? match", html) or re.search(r"(\d+) numbers? in the account", html)
    assert found, html[:2000]
    return int(found.group(1))


def counts(queries) -> int:
    return sum("numbers_numberrecord" in q["sql"] and "COUNT(" in q["sql"].upper() for q in queries)


def test_the_first_sync_indexes_every_tag_in_lower_case(mirrored):
    assert indexed() == expected()
    assert indexed(), "the seed has tagged numbers"
    assert all(tag == tag.lower() for _, tag in indexed())


def test_a_sync_follows_tags_changed_outside_and_drops_gone_numbers(mirrored):
    mirrored.patch("/v1/phone-numbers/1002", json={"tags": ["Moved", "by-api"]})
    gone = 1036  # pending release: gone once its 7-day window has passed
    assert NumberTag.objects.filter(staffify_id=gone).exists() or not NumberRecord.objects.get(staffify_id=gone).tags
    mirrored.post("/control/clock", json={"advance_seconds": 8 * 86400})

    assert mirror.sync(staffify.get_client()).state == "ok"

    assert set(NumberTag.objects.filter(staffify_id=1002).values_list("tag", flat=True)) == {"moved", "by-api"}
    assert not NumberTag.objects.filter(staffify_id=gone).exists()
    assert indexed() == expected()


def test_a_sync_puts_right_an_index_that_fell_out_of_step(mirrored):
    NumberTag.objects.filter(staffify_id=1001).delete()
    NumberTag.objects.create(staffify_id=1003, tag="never-there")
    assert indexed() != expected()

    assert mirror.sync(staffify.get_client()).state == "ok"

    assert indexed() == expected()


def test_a_write_here_updates_the_index_and_the_filter_at_once(support, mirrored):
    assert not support.get("/p/main/?tag=fresh-tag").content.decode().count('<tr id="number-')
    response = support.post("/p/main/numbers/1002/tags", {"tags": "Fresh-Tag, vip"}, headers=HX)
    assert response.status_code == 200

    assert set(NumberTag.objects.filter(staffify_id=1002).values_list("tag", flat=True)) == {"fresh-tag", "vip"}
    html = support.get("/p/main/?tag=FRESH-TAG").content.decode()
    assert re.findall(r'<tr id="number-(\d+)"', html) == ["1002"]
    assert total(html) == 1


def test_a_count_is_computed_once_per_filter_until_the_mirror_changes(ops, mirrored):
    with CaptureQueriesContext(connection) as first:
        before = total(ops.get("/p/main/?tag=support").content.decode())
    with CaptureQueriesContext(connection) as again:
        assert total(ops.get("/p/main/?tag=support").content.decode()) == before
    assert counts(first.captured_queries) == 1
    assert counts(again.captured_queries) == 0  # the same filter, the same mirror: the cached count

    with CaptureQueriesContext(connection) as other:
        total(ops.get("/p/main/?tag=support&status=active").content.decode())
    assert counts(other.captured_queries) == 1  # another filter has its own count


def test_a_write_here_invalidates_the_cached_count(support, mirrored):
    before = total(support.get("/p/main/?tag=support").content.decode())
    tagged = without_support().filter(last_status="active").first()
    assert tagged is not None
    response = support.post(f"/p/main/numbers/{tagged.staffify_id}/tags", {"tags": "support"}, headers=HX)
    assert response.status_code == 200, response.content.decode()
    assert NumberTag.objects.filter(staffify_id=tagged.staffify_id, tag="support").exists(), response.content.decode()

    assert total(support.get("/p/main/?tag=support").content.decode()) == before + 1


def test_a_sync_invalidates_the_cached_count(ops, mirrored):
    before = total(ops.get("/p/main/?tag=support").content.decode())
    untagged = without_support().first()
    assert untagged is not None
    mirrored.patch(f"/v1/phone-numbers/{untagged.staffify_id}", json={"tags": ["support"]})
    assert total(ops.get("/p/main/?tag=support").content.decode()) == before  # the mirror does not know yet

    assert mirror.sync(staffify.get_client()).state == "ok"

    assert total(ops.get("/p/main/?tag=support").content.decode()) == before + 1
    everything = total(ops.get("/p/main/").content.decode())
    assert everything == mirror.owned().count()


def test_a_sync_in_the_worker_invalidates_counts_cached_by_the_web_process(ops, mirrored, monkeypatch):
    """The worker and the web server may each have their own cache (CACHE_URL's default is per process):
    the version the counts are cached under lives in the database, changed with the rows."""
    from django.core.cache.backends.locmem import LocMemCache

    before = total(ops.get("/p/main/?tag=support").content.decode())
    untagged = without_support().first()
    assert untagged is not None
    mirrored.patch(f"/v1/phone-numbers/{untagged.staffify_id}", json={"tags": ["support"]})
    with monkeypatch.context() as worker:
        worker.setattr(mirror, "cache", LocMemCache("the-worker", {}), raising=False)  # the worker's own
        assert mirror.sync(staffify.get_client()).state == "ok"

    assert total(ops.get("/p/main/?tag=support").content.decode()) == before + 1
