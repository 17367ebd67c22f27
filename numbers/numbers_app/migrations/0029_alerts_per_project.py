"""Alerts carry the project they are about (several projects, issue 21): the alerts raised until now about
a project's rows (purchases, bulk jobs, scheduled releases, reclaim windows, the sync) belong to the one
project served until now, and their keys take its slug (numbers_app.alerts.engine), so that an open one
stays open rather than being resolved and raised again. The organisation's (runway, addresses, worker,
tests) carry none. And the owned list's "latest next charge first" index is led by the project, as the
mirror's other indexes are since 0025."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

PROJECT_KINDS = ("credit", "bulk", "release", "release_due", "reclaim", "sync")
INDEX = "owned_next_charge_desc"


def into_the_configured_project(apps, schema_editor):
    first = settings.STAFFIFY_PROJECTS[0]
    Alert = apps.get_model("numbers", "Alert")
    project = apps.get_model("numbers", "Project").objects.filter(slug=first["slug"]).first()
    if project is None or not Alert.objects.exists():
        return
    for alert in Alert.objects.filter(kind__in=PROJECT_KINDS, project__isnull=True):
        alert.project = project
        alert.key = f"{project.slug}:{alert.key}"[:200]
        alert.save(update_fields=["project", "key"])


def back(apps, schema_editor):
    Alert = apps.get_model("numbers", "Alert")
    for alert in Alert.objects.filter(project__isnull=False).select_related("project"):
        alert.key = alert.key.removeprefix(f"{alert.project.slug}:")
        alert.save(update_fields=["key"])


def _rebuild_index(schema_editor, columns: str) -> None:
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX IF EXISTS {INDEX}")
            cursor.execute(f"CREATE INDEX {INDEX} ON numbers_numberrecord ({columns}) WHERE gone_at IS NULL")


def index_by_project(apps, schema_editor):
    _rebuild_index(schema_editor, "project_id, next_charge_at DESC NULLS LAST, staffify_id")


def index_without_project(apps, schema_editor):
    _rebuild_index(schema_editor, "next_charge_at DESC NULLS LAST, staffify_id")  # as 0024 made it


class Migration(migrations.Migration):
    dependencies = [
        ("numbers", "0028_audit_actions_merged"),
    ]

    operations = [
        migrations.AddField(
            model_name="alert",
            name="project",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="numbers.project",
            ),
        ),
        migrations.RunPython(into_the_configured_project, back, elidable=False),
        migrations.RunPython(index_by_project, index_without_project, elidable=False),
    ]
