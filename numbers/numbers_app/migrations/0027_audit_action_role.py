# The audit log records who granted which role in which project (numbers_app.admin).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('numbers', '0026_unique_per_project'),
    ]

    operations = [
        migrations.AlterField(
            model_name='auditentry',
            name='action',
            field=models.CharField(choices=[('buy', 'Buy'), ('assign', 'Assign agent'), ('unassign', 'Unassign agent'), ('tags', 'Edit tags'), ('release', 'Release'), ('reclaim', 'Reclaim'), ('outside', 'Changed outside the dashboard'), ('login_lockout', 'Login locked out'), ('login_failed', 'Failed sign-in'), ('address_create', 'Create address'), ('address_add', 'Add address by id'), ('address_document', 'Upload address document'), ('address_submit', 'Submit address'), ('address_check', 'Check address status'), ('purchase_time', 'Set purchase time'), ('sched_release', 'Schedule release before the next charge'), ('sched_cancel', 'Cancel scheduled release'), ('sched_dismiss', 'Dismiss scheduled release alert'), ('bulk', 'Bulk job'), ('role', 'Change a project role'), ('sso_sign_in', 'Signed in with single sign-on'), ('sso_refused', 'Single sign-on refused'), ('invite', 'Invite a person'), ('invite_revoke', 'Withdraw an invitation'), ('join', 'Accept an invitation'), ('set_role', "Set a person's role"), ('deactivate', 'Deactivate a person'), ('reactivate', 'Reactivate a person'), ('two_factor', 'Second factor'), ('access_policy', 'Sign-in rules')], max_length=16),
        ),
    ]
