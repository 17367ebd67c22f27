"""The owned list filtered by agent, in Staffify's order, from a partial index (agent, id) of the owned
numbers: its first page read from the index instead of walking the account until 51 rows of the agent
turned up."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("numbers", "0024_owned_next_charge_desc"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="numberrecord",
            index=models.Index(
                condition=models.Q(("gone_at__isnull", True)),
                fields=["agent_id", "staffify_id"],
                name="owned_agent_order",
            ),
        ),
    ]
