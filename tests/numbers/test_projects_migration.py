"""Migration 0025 puts the rows of a dashboard from before projects into the configured (first) project."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("numbers", "0024_owned_next_charge_desc")]
AFTER = [("numbers", "0025_projects")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_todays_rows_move_into_the_configured_project(settings):
    settings.STAFFIFY_PROJECTS = [
        {"slug": "demo", "name": "Demo", "id": "proj_demo", "key": None},
        {"slug": "eu", "name": "Europe", "id": "proj_eu", "key": None},
    ]
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    old.get_model("numbers", "NumberRecord").objects.create(staffify_id=7, phone_number="+12125550107")
    old.get_model("numbers", "AuditEntry").objects.create(username="ops", action="assign", outcome="ok", number_id=7)
    old.get_model("numbers", "SyncRun").objects.create(state="ok")
    old.get_model("numbers", "BulkJob").objects.create(action="assign")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    project = new.get_model("numbers", "Project").objects.get()
    assert (project.slug, project.name, project.staffify_id) == ("demo", "Demo", "proj_demo")
    for name in ("NumberRecord", "AuditEntry", "SyncRun", "BulkJob"):
        assert list(new.get_model("numbers", name).objects.values_list("project_id", flat=True)) == [project.pk], name
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # back to the latest, for the tests after this one
