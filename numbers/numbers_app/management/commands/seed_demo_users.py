"""Creates the demo users ops, support and lead (sandbox mode only) and says how to log in."""

import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from numbers_app.roles import ensure_roles

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
            if not user.email:  # alert e-mails (the console in sandbox mode) need an address
                user.email = f"{username}@example.com"
                user.save(update_fields=["email"])
            user.groups.set([Group.objects.get(name=group_name)])
        password = "the one in DEMO_PASSWORD" if os.environ.get("DEMO_PASSWORD") else f"'{settings.DEMO_PASSWORD}'"
        self.stdout.write(
            self.style.SUCCESS(
                f"Log in at http://127.0.0.1:{settings.PORT}/accounts/login/ as ops (Operations), support (Support) "
                f"or lead (Team lead), password {password}. Existing demo users keep the password they had."
            )
        )
