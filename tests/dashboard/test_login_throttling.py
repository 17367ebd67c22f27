"""Login throttling (django-axes): repeated failures lock a username out from that address, the login
page says so plainly, the audit log records it, and an administrator can unlock it."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.utils import timezone

from numbers_app.models import AuditEntry

LOGIN = "/accounts/login/"
LOCKED = "Too many failed attempts; try again in 15 minutes or ask an administrator to unlock your account."


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    # Autouse, so it is in force before the personas' passwords are hashed.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def log_in(client, password, username="ops", ip="10.0.0.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def fail(client, times, **kwargs):
    for _ in range(times):
        response = log_in(client, "wrong", **kwargs)
    return response


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.django_db
def test_the_right_password_logs_in(client, ops_user):
    response = log_in(client, "pw-ops")
    assert response.status_code == 302 and is_logged_in(client)


@pytest.mark.django_db
def test_after_fifty_wrong_passwords_the_right_one_is_refused(client, ops_user):
    fail(client, 50)
    response = log_in(client, "pw-ops")
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert not is_logged_in(client)


@pytest.mark.django_db
def test_the_fifth_failure_locks_and_the_fourth_does_not(client, ops_user):
    response = fail(client, 4)
    assert response.status_code == 200 and LOCKED not in response.content.decode()
    response = log_in(client, "wrong")
    assert response.status_code == 429 and LOCKED in response.content.decode()


@pytest.mark.django_db
def test_a_success_forgets_earlier_failures(client, ops_user):
    fail(client, 4)
    assert log_in(client, "pw-ops").status_code == 302
    client.logout()
    fail(client, 4)
    assert log_in(client, "pw-ops").status_code == 302


@pytest.mark.django_db
def test_the_lockout_keeps_the_username_and_escapes_it(client, ops_user):
    response = fail(client, 5, username='<b>"x"</b>')
    html = response.content.decode()
    assert LOCKED in html
    assert "&lt;b&gt;&quot;x&quot;&lt;/b&gt;" in html and '<b>"x"</b>' not in html


@pytest.mark.django_db
def test_a_locked_out_user_is_locked_out_from_every_address(client, ops_user):
    fail(client, 5, ip="10.0.0.7")
    response = log_in(client, "pw-ops", ip="10.0.0.8")
    assert response.status_code == 429 and not is_logged_in(client)


@pytest.mark.django_db
def test_guesses_at_one_user_spread_over_addresses_lock_it_out(client, ops_user):
    # The probe: 40 guesses at one user from 10 addresses, 4 from each, locked nothing.
    for n in range(10):
        fail(client, 4, ip=f"10.0.1.{n}")
    assert log_in(client, "pw-ops", ip="10.0.2.1").status_code == 429 and not is_logged_in(client)
    assert AuditEntry.objects.filter(action="login_lockout", username="ops").count() == 1


@pytest.mark.django_db
def test_many_usernames_from_one_address_lock_the_address_out(client, ops_user):
    # The probe: 30 user names from one address locked nothing.
    for n in range(30):
        fail(client, 1, username=f"user{n}", ip="10.0.3.3")
    assert log_in(client, "pw-ops", ip="10.0.3.3").status_code == 429 and not is_logged_in(client)
    assert log_in(client, "pw-ops", ip="10.0.3.4").status_code == 302  # ops itself was never guessed at


@pytest.mark.django_db
def test_every_failed_sign_in_is_in_the_audit_log_with_its_own_label(client, ops_user, lead):
    fail(client, 3, ip="10.0.0.7")
    fail(client, 2, username="nobody", ip="10.0.0.8")
    failed = AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN_FAILED).order_by("id")
    assert failed.count() == 5
    first = failed.first()
    assert first.user == ops_user and first.username == "ops"
    assert first.get_action_display() == "Failed sign-in"
    assert first.get_outcome_display() == "Wrong name or password"
    assert "10.0.0.7" in first.message
    assert failed.last().user is None and failed.last().username == "nobody"
    html = lead.get("/p/main/audit/", {"action": "login_failed"}).content.decode()
    assert "Failed sign-in" in html


@pytest.mark.django_db
def test_attempts_while_locked_out_are_audited_as_locked_out(client, ops_user):
    fail(client, 7)
    failed = AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN_FAILED)
    assert failed.count() == 7
    assert failed.filter(outcome=AuditEntry.Outcome.LOCKED_OUT).count() >= 2


@pytest.mark.django_db
def test_the_lock_ends_after_the_cool_off(client, ops_user):
    fail(client, 10)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert log_in(client, "pw-ops").status_code == 302


@pytest.mark.django_db
def test_the_lockout_is_in_the_audit_log_once(client, ops_user):
    fail(client, 50)
    entries = list(AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN_LOCKOUT))
    assert len(entries) == 1
    entry = entries[0]
    assert entry.user == ops_user and entry.username == "ops"
    assert entry.outcome == AuditEntry.Outcome.LOCKED_OUT and entry.get_outcome_display() == "Locked out"
    assert entry.number_id is None
    assert "5 failed logins from 10.0.0.7" in entry.message


@pytest.mark.django_db
def test_a_lockout_for_an_unknown_name_is_audited_with_that_name(client):
    fail(client, 5, username="nobody")
    entry = AuditEntry.objects.get(action=AuditEntry.Action.LOGIN_LOCKOUT)
    assert entry.user is None and entry.username == "nobody"


@pytest.mark.django_db
def test_the_audit_page_shows_the_lockout(client, ops_user, lead):
    fail(client, 5, username="ops")
    html = lead.get("/p/main/audit/", {"action": "login_lockout"}).content.decode()
    assert "Login locked out" in html


@pytest.mark.django_db
def test_the_reset_command_unlocks_the_user(client, ops_user):
    fail(client, 50)
    call_command("axes_reset_username", "ops")
    assert log_in(client, "pw-ops").status_code == 302 and is_logged_in(client)


@pytest.mark.django_db
def test_an_administrator_unlocks_the_user_in_the_admin(client, ops_user, admin_user):
    fail(client, 50)
    attempt = AccessAttempt.objects.get(username="ops")
    admin = client.__class__()
    admin.force_login(admin_user)
    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "ops" in listing.content.decode()
    response = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert log_in(client, "pw-ops").status_code == 302 and is_logged_in(client)


@pytest.mark.django_db
def test_the_admin_login_is_the_dashboards_and_throttled_too(client, admin_user):
    """The admin has no login of its own (it would skip the second factor and mandatory SSO): its
    login page sends to the dashboard's, which checks no password itself and is throttled."""
    response = client.post("/admin/login/?next=/admin/", {"username": "admin", "password": "password"})
    assert response["Location"] == "/accounts/login/?next=%2Fadmin%2F" and not is_logged_in(client)
    fail(client, 5, username="admin", ip="10.0.0.9")
    response = log_in(client, "password", username="admin", ip="10.0.0.9")
    assert response.status_code == 429 and not is_logged_in(client)


def test_behind_proxies_the_address_comes_from_x_forwarded_for():
    from tests.dashboard.test_settings import SANDBOX, run_settings

    assert (
        run_settings(SANDBOX, "AXES_LOCKOUT_PARAMETERS").stdout.strip()
        == "['username', 'ip_address', ['username', 'ip_address']]"
    )
    result = run_settings(
        {**SANDBOX, "LOGIN_PROXY_COUNT": "1"}, "AXES_IPWARE_PROXY_COUNT, settings.AXES_IPWARE_META_PRECEDENCE_ORDER"
    )
    assert result.stdout.strip() == "1 ('HTTP_X_FORWARDED_FOR', 'REMOTE_ADDR')", result.stderr
