# The audit log records who granted which role in which project (numbers_app.admin).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('numbers', '0020_projects'),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditentry',
            name='action',
            field=models.CharField(choices=[('buy', 'Buy'), ('assign', 'Assign agent'), ('unassign', 'Unassign agent'), ('tags', 'Edit tags'), ('release', 'Release'), ('reclaim', 'Reclaim'), ('outside', 'Changed outside the dashboard'), ('login_lockout', 'Login locked out'), ('address_create', 'Create address'), ('address_add', 'Add address by id'), ('address_document', 'Upload address document'), ('address_submit', 'Submit address'), ('address_check', 'Check address status'), ('purchase_time', 'Set purchase time'), ('sched_release', 'Schedule release before the next charge'), ('sched_cancel', 'Cancel scheduled release'), ('bulk', 'Bulk job'), ('role', 'Change a project role')], max_length=16),
        ),
    ]
