"""The owned list sorted by next charge, latest first (`?sort=-next_charge`), from an index on PostgreSQL:
its order (next charge descending, NULLS LAST, then id ascending) is one no backward scan of
owned_next_charge gives, so PostgreSQL sorted the whole account for every page. SQLite cannot index
NULLS LAST (and did not sort slower): nothing there."""

from django.db import migrations

INDEX = "owned_next_charge_desc"


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {INDEX} ON numbers_numberrecord "
                "(next_charge_at DESC NULLS LAST, staffify_id) WHERE gone_at IS NULL"
            )


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("numbers", "0023_mirror_digits_trigram")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
