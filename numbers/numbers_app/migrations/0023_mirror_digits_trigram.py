"""The owned list's digits filter (`?q=415`, a substring of the number) as an index lookup on PostgreSQL:
a trigram GIN index (pg_trgm) on the owned numbers' phone_number, which LIKE '%415%' uses instead of
reading every row. Nothing on SQLite (its LIKE scans; the list's count is cached per mirror version
there as everywhere). A database where the extension cannot be created (no privilege) keeps working
without the index: the migration says so and goes on."""

import logging

from django.db import migrations, transaction

logger = logging.getLogger(__name__)

INDEX = "mirror_digits_trgm"


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        try:
            with transaction.atomic(using=schema_editor.connection.alias):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception as err:  # noqa: BLE001  a privilege the database user lacks: go on without it
            logger.warning("pg_trgm could not be created (%s): the digits filter will scan the mirror", err)
            return
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON numbers_numberrecord "
            "USING gin (phone_number gin_trgm_ops) WHERE gone_at IS NULL"
        )


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("numbers", "0022_alerts")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
