import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory


@pytest.mark.django_db
def test_it_creates_one_user_per_role_and_says_how_to_log_in(capsys, settings):
    call_command("seed_demo_users")
    out = capsys.readouterr().out
    assert "/accounts/login/ as ops (Operations), support (Support) or lead (Team lead)" in out
    for username, group in (("ops", "Operations"), ("support", "Support"), ("lead", "Team lead")):
        # A login form's request: django-axes checks every authentication against the lockouts.
        request = RequestFactory().post("/accounts/login/")
        user = authenticate(request, username=username, password=settings.DEMO_PASSWORD)
        assert user is not None and list(user.groups.values_list("name", flat=True)) == [group]


@pytest.mark.django_db
def test_running_it_twice_changes_nothing(django_user_model):
    call_command("seed_demo_users")
    call_command("seed_demo_users")
    assert django_user_model.objects.count() == 3


@pytest.mark.django_db
def test_it_creates_no_one_outside_sandbox_mode(settings, django_user_model, capsys):
    settings.STAFFIFY_SANDBOX = False
    call_command("seed_demo_users")
    assert django_user_model.objects.count() == 0
    assert "no demo users" in capsys.readouterr().out
