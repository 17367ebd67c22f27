"""Creates the demo users ops, support and lead (sandbox mode only) and says how to log in."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from numbers.roles import ensure_roles
from django.core.management.base import BaseCommand

DEMO_USERS = {"ops": "Operations", "support": "Support", "lead": "Team lead"}


class Command(BaseCommand):
    help = "Create the demo users (ops, support, lead) in sandbox mode; safe to run again."

    def handle(self, *args, **options) -> None:
        if not settings.STAFFIFY_SANDBOX:
            self.stdout.write("STAFFIFY_SANDBOX is off: no demo users are created.")
            return
        ensure_roles()
        User = get_user_model()
        for username, group_name in DEMO_USERS.items():
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(settings.DEMO_PASSWORD)
                user.save()
            user.groups.set([Group.objects.get(name=group_name)])
        self.stdout.write(
            self.style.SUCCESS(
                "Demo users: ops (Operations), support (Support), lead (Team lead). "
                "Password: the DEMO_PASSWORD environment variable, by default 'staffify-demo'."
            )
        )
