"""Names and notes on numbers (issue 23), kept by the dashboard per project: a note belongs to the project
whose number it describes, one per (project, number). The table is made with the project nullable, any
row in it (none in practice: the table is new) is put in the first configured project, as 0025 did for
the mirror and 0029 for alerts, then the project is required. (A database that ran issue 23's branch
before projects, with its 0025_number_notes, drops that table first; no released database has it.)"""

import django.db.models.deletion
import django.utils.timezone
import numbers_app.models
from django.conf import settings
from django.db import migrations, models


def into_the_configured_project(apps, schema_editor):
    NumberNote = apps.get_model("numbers", "NumberNote")
    if not NumberNote.objects.filter(project__isnull=True).exists():
        return
    first = settings.STAFFIFY_PROJECTS[0]
    project, _ = apps.get_model("numbers", "Project").objects.get_or_create(
        slug=first["slug"], defaults={"name": first["name"], "staffify_id": first["id"] or ""}
    )
    NumberNote.objects.filter(project__isnull=True).update(project=project)


class Migration(migrations.Migration):
    dependencies = [
        ("numbers", "0030_owned_agent_order"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditentry",
            name="action",
            field=models.CharField(
                choices=[
                    ("buy", "Buy"),
                    ("assign", "Assign agent"),
                    ("unassign", "Unassign agent"),
                    ("tags", "Edit tags"),
                    ("note", "Edit name and note"),
                    ("release", "Release"),
                    ("reclaim", "Reclaim"),
                    ("outside", "Changed outside the dashboard"),
                    ("login_lockout", "Login locked out"),
                    ("login_failed", "Failed sign-in"),
                    ("address_create", "Create address"),
                    ("address_add", "Add address by id"),
                    ("address_document", "Upload address document"),
                    ("address_submit", "Submit address"),
                    ("address_check", "Check address status"),
                    ("purchase_time", "Set purchase time"),
                    ("sched_release", "Schedule release before the next charge"),
                    ("sched_cancel", "Cancel scheduled release"),
                    ("sched_dismiss", "Dismiss scheduled release alert"),
                    ("bulk", "Bulk job"),
                    ("role", "Change a project role"),
                    ("sso_sign_in", "Signed in with single sign-on"),
                    ("sso_refused", "Single sign-on refused"),
                    ("invite", "Invite a person"),
                    ("invite_revoke", "Withdraw an invitation"),
                    ("join", "Accept an invitation"),
                    ("set_role", "Set a person's role"),
                    ("alert_thresholds", "Alert thresholds"),
                    ("alert_subscribe", "Alert subscriptions"),
                    ("alert_webhook", "Alert webhook"),
                    ("deactivate", "Deactivate a person"),
                    ("reactivate", "Reactivate a person"),
                    ("two_factor", "Second factor"),
                    ("access_policy", "Sign-in rules"),
                ],
                max_length=16,
            ),
        ),
        migrations.CreateModel(
            name="NumberNote",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("staffify_id", models.BigIntegerField()),
                ("name", models.CharField(blank=True, max_length=80)),
                ("note", models.TextField(blank=True)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "project",
                    models.ForeignKey(
                        null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="numbers.project"
                    ),
                ),
                (
                    "updated_by",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.RunPython(into_the_configured_project, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="numbernote",
            name="project",
            field=models.ForeignKey(
                default=numbers_app.models.current_project_pk,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="numbers.project",
            ),
        ),
        migrations.AddConstraint(
            model_name="numbernote",
            constraint=models.UniqueConstraint(fields=("project", "staffify_id"), name="number_note_per_project"),
        ),
    ]
