"""The digits filter (`?q=`) is an index lookup on PostgreSQL: migration 0020's trigram index, which the
list's own query uses (EXPLAIN), so its cost does not grow with the account. Nothing on SQLite."""

import pytest
from django.db import connection

from numbers_app.mirror import listing
from numbers_app.models import NumberRecord

MANY = 5000  # enough rows that reading them all costs more than the index (bench/scale.py: 100,000)


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_digits_filter_reads_the_trigram_index_on_postgresql(ops, mirrored):
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL index (on SQLite the migration does nothing)")
    NumberRecord.objects.bulk_create(
        NumberRecord(staffify_id=500_000 + i, phone_number=f"+3120{i * 7919 % 10_000_000:07d}", last_status="active")
        for i in range(MANY)
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT gin_clean_pending_list('mirror_digits_trgm')")  # as autovacuum would
        cursor.execute("ANALYZE numbers_numberrecord")
        # Still small enough that reading it all is the cheapest plan; not reading it all, the planner
        # finds the rows through the trigram index (at 100,000 it picks it on its own: bench/scale.py)
        cursor.execute("SET LOCAL enable_seqscan = off")
    found = listing.numbers({"q": "98765"})
    assert "mirror_digits_trgm" in found.order_by().explain()  # the count, cached per mirror version
    assert listing.total({"q": "98765"}, found) == found.count()
    html = ops.get("/?q=98765").content.decode()
    assert "match" in html


@pytest.mark.django_db
def test_the_migration_does_nothing_on_sqlite():
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite pass")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'mirror_digits_trgm'")
        assert cursor.fetchone() is None
