# One dashboard, several Staffify projects: a project for what a project owns, its rows put in the
# configured (first) project, and the mirror's indexes led by the project.

import django.db.models.deletion
import numbers_app.models
from django.conf import settings
from django.db import migrations, models


OWNED = [
    "AuditEntry",
    "BulkJob",
    "MirrorAgent",
    "NumberRecord",
    "NumberTag",
    "PurchaseAttempt",
    "ScheduledRelease",
    "SyncRun",
]


def into_the_configured_project(apps, schema_editor):
    """Today's rows belong to the one project served until now: the first configured (STAFFIFY_PROJECTS,
    else the single key's project)."""
    first = settings.STAFFIFY_PROJECTS[0]
    project, _ = apps.get_model("numbers", "Project").objects.get_or_create(
        slug=first["slug"], defaults={"name": first["name"], "staffify_id": first["id"] or ""}
    )
    for name in OWNED:
        apps.get_model("numbers", name).objects.filter(project__isnull=True).update(project=project)


class Migration(migrations.Migration):
    dependencies = [
        ("numbers", "0024_owned_next_charge_desc"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Project",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("slug", models.SlugField(max_length=40, unique=True)),
                ("name", models.CharField(max_length=100)),
                ("staffify_id", models.CharField(blank=True, max_length=40)),
            ],
            options={
                "ordering": ["id"],
            },
        ),
        migrations.CreateModel(
            name="ProjectMembership",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "role",
                    models.CharField(
                        choices=[
                            ("Operations", "Operations"),
                            ("Support", "Support"),
                            ("Team lead", "Team lead"),
                            ("none", "No access"),
                        ],
                        max_length=16,
                    ),
                ),
            ],
            options={
                "ordering": ["project", "user"],
            },
        ),
        migrations.RemoveIndex(
            model_name="numberrecord",
            name="mirror_status",
        ),
        migrations.RemoveIndex(
            model_name="numberrecord",
            name="mirror_agent",
        ),
        migrations.RemoveIndex(
            model_name="numberrecord",
            name="mirror_country",
        ),
        migrations.RemoveIndex(
            model_name="numberrecord",
            name="mirror_next_charge",
        ),
        migrations.RemoveIndex(
            model_name="numberrecord",
            name="mirror_purchased",
        ),
        migrations.RemoveIndex(
            model_name="numberrecord",
            name="mirror_sync_run",
        ),
        migrations.RemoveIndex(
            model_name="numberrecord",
            name="mirror_order",
        ),
        migrations.RemoveIndex(
            model_name="numberrecord",
            name="mirror_billing",
        ),
        migrations.RemoveIndex(
            model_name="numberrecord",
            name="owned_next_charge",
        ),
        migrations.AlterField(
            model_name="syncrun",
            name="running",
            field=models.BooleanField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="auditentry",
            name="project",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="numbers.project"
            ),
        ),
        migrations.AddField(
            model_name="bulkjob",
            name="project",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="numbers.project"
            ),
        ),
        migrations.AddField(
            model_name="mirroragent",
            name="project",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="numbers.project"
            ),
        ),
        migrations.AddField(
            model_name="numberrecord",
            name="project",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="numbers.project"
            ),
        ),
        migrations.AddField(
            model_name="numbertag",
            name="project",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="numbers.project"
            ),
        ),
        migrations.AddField(
            model_name="purchaseattempt",
            name="project",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="numbers.project"
            ),
        ),
        migrations.AddField(
            model_name="scheduledrelease",
            name="project",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="numbers.project"
            ),
        ),
        migrations.AddField(
            model_name="syncrun",
            name="project",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="numbers.project"
            ),
        ),
        migrations.RunPython(into_the_configured_project, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="auditentry",
            name="project",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="numbers.project"
            ),
        ),
        migrations.AlterField(
            model_name="bulkjob",
            name="project",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="numbers.project"
            ),
        ),
        migrations.AlterField(
            model_name="mirroragent",
            name="project",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="numbers.project"
            ),
        ),
        migrations.AlterField(
            model_name="numberrecord",
            name="project",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="numbers.project"
            ),
        ),
        migrations.AlterField(
            model_name="numbertag",
            name="project",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="numbers.project"
            ),
        ),
        migrations.AlterField(
            model_name="purchaseattempt",
            name="project",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="numbers.project"
            ),
        ),
        migrations.AlterField(
            model_name="scheduledrelease",
            name="project",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="numbers.project"
            ),
        ),
        migrations.AlterField(
            model_name="syncrun",
            name="project",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="+", to="numbers.project"
            ),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="project",
            field=models.ForeignKey(
                default=numbers_app.models.current_project_pk,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="numbers.project",
            ),
        ),
        migrations.AlterField(
            model_name="bulkjob",
            name="project",
            field=models.ForeignKey(
                default=numbers_app.models.current_project_pk,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="numbers.project",
            ),
        ),
        migrations.AlterField(
            model_name="mirroragent",
            name="project",
            field=models.ForeignKey(
                default=numbers_app.models.current_project_pk,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="numbers.project",
            ),
        ),
        migrations.AlterField(
            model_name="numberrecord",
            name="project",
            field=models.ForeignKey(
                default=numbers_app.models.current_project_pk,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="numbers.project",
            ),
        ),
        migrations.AlterField(
            model_name="numbertag",
            name="project",
            field=models.ForeignKey(
                default=numbers_app.models.current_project_pk,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="numbers.project",
            ),
        ),
        migrations.AlterField(
            model_name="purchaseattempt",
            name="project",
            field=models.ForeignKey(
                default=numbers_app.models.current_project_pk,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="numbers.project",
            ),
        ),
        migrations.AlterField(
            model_name="scheduledrelease",
            name="project",
            field=models.ForeignKey(
                default=numbers_app.models.current_project_pk,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="numbers.project",
            ),
        ),
        migrations.AlterField(
            model_name="syncrun",
            name="project",
            field=models.ForeignKey(
                default=numbers_app.models.current_project_pk,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="numbers.project",
            ),
        ),
        migrations.AddIndex(
            model_name="numberrecord",
            index=models.Index(fields=["project", "gone_at", "staffify_id"], name="mirror_order"),
        ),
        migrations.AddIndex(
            model_name="numberrecord",
            index=models.Index(fields=["project", "gone_at", "last_status"], name="mirror_status"),
        ),
        migrations.AddIndex(
            model_name="numberrecord",
            index=models.Index(fields=["project", "gone_at", "agent_id"], name="mirror_agent"),
        ),
        migrations.AddIndex(
            model_name="numberrecord",
            index=models.Index(fields=["project", "gone_at", "country_code"], name="mirror_country"),
        ),
        migrations.AddIndex(
            model_name="numberrecord",
            index=models.Index(fields=["project", "gone_at", "next_charge_at"], name="mirror_next_charge"),
        ),
        migrations.AddIndex(
            model_name="numberrecord",
            index=models.Index(
                fields=["project", "gone_at", "last_status", "next_charge_at", "agent_id", "staffify_id"],
                name="mirror_billing",
            ),
        ),
        migrations.AddIndex(
            model_name="numberrecord",
            index=models.Index(
                condition=models.Q(("gone_at__isnull", True)),
                fields=["project", "next_charge_at", "staffify_id"],
                name="owned_next_charge",
            ),
        ),
        migrations.AddIndex(
            model_name="numberrecord",
            index=models.Index(fields=["project", "gone_at", "purchased_at"], name="mirror_purchased"),
        ),
        migrations.AddIndex(
            model_name="numberrecord",
            index=models.Index(fields=["project", "sync_run"], name="mirror_sync_run"),
        ),
        migrations.AddConstraint(
            model_name="syncrun",
            constraint=models.UniqueConstraint(fields=("project", "running"), name="one_running_sync_per_project"),
        ),
        migrations.AddField(
            model_name="projectmembership",
            name="project",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="memberships", to="numbers.project"
            ),
        ),
        migrations.AddField(
            model_name="projectmembership",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="project_roles", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddConstraint(
            model_name="projectmembership",
            constraint=models.UniqueConstraint(fields=("user", "project"), name="one_role_per_project"),
        ),
    ]
