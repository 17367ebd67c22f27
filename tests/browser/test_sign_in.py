"""The whole single sign-on in a browser, against a real OpenID Connect provider process (one for the
module): the login page's button, the provider's own sign-in form, and back into the dashboard with the
role of the group. And a second factor set up from one's settings and then asked at the next sign-in."""

import base64
import re
import time

import pytest
from django.contrib.auth import get_user_model
from django_otp.oath import TOTP
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.people import provider as idp

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    running = idp.start(tmp_path_factory.mktemp("idp"))
    yield running
    idp.stop(running)


def test_signing_in_with_the_identity_provider(live_sandbox, live_server, page, provider, settings):
    provider.put_client([f"{live_server.url}/accounts/sso/callback"])
    provider.put_user("olivia", ["dash-ops"])
    idp.dashboard_settings(settings, provider)
    page.goto(f"{live_server.url}/p/main/billing/")  # signed out: the login page, then back here
    screenshot(page, "login-sso")
    page.get_by_role("link", name="Sign in with Test IdP").click()
    page.get_by_label("Provider username").fill("olivia")
    page.get_by_label("Provider password").fill("pw-olivia")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server.url}/p/main/billing/")
    expect(page.locator("header .who")).to_have_text("olivia · Operations")
    expect(page.get_by_role("link", name="People")).to_be_visible()
    assert get_user_model().objects.get(username="olivia").person.sso_subject == "sub-olivia"
    page.get_by_role("link", name="People").click()
    expect(page.locator("#people")).to_contain_text("Single sign-on")
    screenshot(page, "people", full_page=True)
    assert not page.errors, page.errors


def code_from(secret: str, steps_ahead: int = 0) -> str:
    """What the person's authenticator app shows for the key typed into it."""
    key = base64.b32decode(secret.replace(" ", "") + "=" * (-len(secret.replace(" ", "")) % 8))
    totp = TOTP(key)
    totp.time = time.time() + steps_ahead * 30
    return f"{totp.token():06d}"


def test_setting_up_and_using_a_second_factor(live_sandbox, live_server, page, login, support_user):
    login(support_user, by_form=True)
    page.get_by_role("link", name=re.compile(r"^support")).click()
    page.get_by_role("link", name="Set up a second factor").click()
    expect(page.locator(".qr svg")).to_be_visible()
    screenshot(page, "two-factor-setup", full_page=True)
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code from your app").fill(code_from(secret))
    page.get_by_role("button", name="Turn on").click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("button", name="Log out").click()

    page.get_by_label("Username").fill("support")
    page.get_by_label("Password").fill("pw-support")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/code")
    page.get_by_label("Code from your authenticator app").fill(code_from(secret, steps_ahead=1))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/p/main/")
    expect(page.locator("header .who")).to_contain_text("support")
    assert not page.errors, page.errors
