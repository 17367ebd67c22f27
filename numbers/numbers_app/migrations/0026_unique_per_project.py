# Staffify ids are unique per project in the mirror (a project no longer served keeps its rows).

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('numbers', '0025_projects'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='numbertag',
            name='number_tag_unique',
        ),
        migrations.RemoveConstraint(
            model_name='scheduledrelease',
            name='one_waiting_release_per_number',
        ),
        migrations.RemoveIndex(
            model_name='numbertag',
            name='number_tag_number',
        ),
        migrations.AlterField(
            model_name='mirroragent',
            name='staffify_id',
            field=models.BigIntegerField(),
        ),
        migrations.AlterField(
            model_name='numberrecord',
            name='staffify_id',
            field=models.BigIntegerField(),
        ),
        migrations.AddIndex(
            model_name='numbertag',
            index=models.Index(fields=['project', 'staffify_id'], name='number_tag_number'),
        ),
        migrations.AddConstraint(
            model_name='mirroragent',
            constraint=models.UniqueConstraint(fields=('project', 'staffify_id'), name='mirror_agent_per_project'),
        ),
        migrations.AddConstraint(
            model_name='numberrecord',
            constraint=models.UniqueConstraint(fields=('staffify_id', 'project'), name='mirror_number_per_project'),
        ),
        migrations.AddConstraint(
            model_name='numbertag',
            constraint=models.UniqueConstraint(fields=('project', 'tag', 'staffify_id'), name='number_tag_unique'),
        ),
        migrations.AddConstraint(
            model_name='scheduledrelease',
            constraint=models.UniqueConstraint(condition=models.Q(('state__in', ['scheduled', 'running'])), fields=('project', 'staffify_id'), name='one_waiting_release_per_number'),
        ),
    ]
