"""The owned list filtered by agent, in Staffify's order, from a partial index (project, agent, id) of the
owned numbers, led by the project as the mirror's other indexes are: its first page read from the index
instead of walking the account until 51 rows of the agent turned up."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("numbers", "0029_alerts_per_project"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="numberrecord",
            index=models.Index(
                condition=models.Q(("gone_at__isnull", True)),
                fields=["project", "agent_id", "staffify_id"],
                name="owned_agent_order",
            ),
        ),
    ]
