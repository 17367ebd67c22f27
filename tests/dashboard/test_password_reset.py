"""Password reset exists only when mail is configured (EMAIL_URL; the sandbox prints mail on the
console); without mail there are no reset pages and the login page says whom to ask."""

import importlib
import re

import pytest
from django.core import mail
from django.urls import clear_url_caches

from tests.dashboard.test_settings import SANDBOX, run_settings

ASK = "Ask an administrator to reset your password"
PRODUCTION = {
    "EMAIL_URL": "",
    "STAFFIFY_SANDBOX": "false",
    "SECRET_KEY": "k" * 50,
    "STAFFIFY_API_KEY": "sfy_live_" + "a" * 48,
}


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def reload_urls():
    import dashboard.urls

    importlib.reload(dashboard.urls)
    clear_url_caches()


@pytest.fixture
def without_mail(settings):
    settings.PASSWORD_RESET_ENABLED = False
    reload_urls()
    yield
    settings.PASSWORD_RESET_ENABLED = True
    reload_urls()


@pytest.mark.django_db
def test_with_mail_the_login_page_offers_a_reset(client):
    html = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password_reset/"' in html and ASK not in html


@pytest.mark.django_db
def test_a_reset_link_by_mail_sets_a_new_password(client, ops_user):
    ops_user.email = "ops@example.com"
    ops_user.save()
    response = client.post("/accounts/password_reset/", {"email": "ops@example.com"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password_reset/done/"
    assert "Check your email" in client.get(response["Location"]).content.decode()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ops@example.com"]
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", str(mail.outbox[0].body)).group(1)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    done = client.post(form.redirect_chain[-1][0], {"new_password1": "a-new-pass-9", "new_password2": "a-new-pass-9"})
    assert done["Location"] == "/accounts/reset/done/"
    ops_user.refresh_from_db()
    assert ops_user.check_password("a-new-pass-9")
    assert "Your new password is set" in client.get(done["Location"]).content.decode()


@pytest.mark.django_db
def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, ops_user):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.com"})
    assert response["Location"] == "/accounts/password_reset/done/"
    assert mail.outbox == []


@pytest.mark.django_db
def test_without_mail_there_is_no_reset_page(client, without_mail):
    for path in ("/accounts/password_reset/", "/accounts/password_reset/done/", "/accounts/reset/done/"):
        assert client.get(path).status_code == 404, path
        assert client.post(path, {"email": "ops@example.com"}).status_code == 404, path
    assert client.get("/accounts/reset/MQ/set-password/").status_code == 404


@pytest.mark.django_db
def test_without_mail_the_login_page_says_whom_to_ask(client, without_mail):
    html = client.get("/accounts/login/").content.decode()
    assert ASK in html and "password_reset" not in html


def test_production_without_email_url_has_no_password_reset():
    result = run_settings(PRODUCTION, "PASSWORD_RESET_ENABLED")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_sandbox_mode_prints_mail_on_the_console():
    result = run_settings(
        {**SANDBOX, "EMAIL_URL": ""}, "MAILERS['default']['BACKEND'], settings.PASSWORD_RESET_ENABLED"
    )
    assert result.stdout.strip() == "django.core.mail.backends.console.EmailBackend True", result.stderr


def test_email_url_configures_smtp():
    env = {**PRODUCTION, "EMAIL_URL": "smtp+tls://mailer%40example.com:s3cret@mail.example.com:587"}
    result = run_settings(env, "MAILERS, settings.PASSWORD_RESET_ENABLED")
    assert result.returncode == 0, result.stderr
    assert "'host': 'mail.example.com', 'port': 587, 'username': 'mailer@example.com'" in result.stdout
    assert "'use_tls': True" in result.stdout and result.stdout.strip().endswith("True")


def test_production_refuses_console_mail():
    result = run_settings({**PRODUCTION, "EMAIL_URL": "consolemail://"})
    assert result.returncode != 0
    assert "EMAIL_URL=consolemail:// would print password reset links in the log" in result.stderr


def test_a_malformed_email_url_stops_the_start_without_echoing_it():
    result = run_settings({**PRODUCTION, "EMAIL_URL": "carrier-pigeon://user:s3cret@loft"})
    assert result.returncode != 0
    assert "EMAIL_URL is malformed" in result.stderr and "s3cret" not in result.stderr


@pytest.mark.django_db
def test_the_login_page_does_not_promise_an_email_that_only_reaches_the_console(client, settings):
    settings.PASSWORD_RESET_TO_CONSOLE = True
    html = client.get("/accounts/login/").content.decode()
    assert "Reset it by email" not in html and "prints mail on its console" in html
    settings.PASSWORD_RESET_TO_CONSOLE = False
    assert "Reset it by email" in client.get("/accounts/login/").content.decode()
