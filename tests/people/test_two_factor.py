"""A second factor for local accounts: enrolling from one's own settings (a QR code as inline SVG),
then a code asked at every password sign-in; recovery codes that work once; throttling of passwords
(django-axes) still in force before the code is even asked."""

import time

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from numbers_app.models import AuditEntry, Person

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


def code_for(device: TOTPDevice, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


def enrol(client, user) -> list[str]:
    page = client.get("/account/two-factor").content.decode()
    assert "<svg" in page and 'id="totp-secret"' in page
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    page = client.post("/account/two-factor", {"action": "confirm", "code": code_for(device)}).content.decode()
    codes = page.split('id="recovery-codes">')[1].split("</ul>")[0]
    return [part.split("</code>")[0] for part in codes.split("<code>")[1:]]


def test_preferences_offer_a_second_factor(support):
    assert "Set up a second factor" in support.get("/account/preferences").content.decode()


def test_a_wrong_first_code_does_not_turn_it_on(support, support_user):
    support.get("/account/two-factor")
    answer = support.post("/account/two-factor", {"action": "confirm", "code": "000000"})
    assert "That code is not right" in answer.content.decode()
    assert not TOTPDevice.objects.filter(user=support_user, confirmed=True).exists()


def test_enrolled_then_asked_for_the_code_at_sign_in(support, support_user):
    codes = enrol(support, support_user)
    assert len(codes) == 10
    assert AuditEntry.objects.filter(action=AuditEntry.Action.TWO_FACTOR).count() == 1
    device = TOTPDevice.objects.get(user=support_user, confirmed=True)
    browser = Client()
    answer = browser.post(LOGIN, {"username": "support", "password": "pw-support"})
    assert answer["Location"] == "/accounts/login/code"
    assert "_auth_user_id" not in browser.session  # not signed in with the password alone
    assert browser.get("/p/main/").status_code == 302
    wrong = browser.post("/accounts/login/code", {"code": "123456"})
    assert "That code is not right" in wrong.content.decode()
    right = code_for(device, steps_ahead=1)  # the step after enrolment's (django-otp takes each step once)
    answer = browser.post("/accounts/login/code", {"code": right})
    assert "Too many wrong codes: wait 1 second" in answer.content.decode()  # django-otp's throttling
    time.sleep(1.05)
    answer = browser.post("/accounts/login/code", {"code": right})
    assert answer.status_code == 302 and browser.get("/p/main/").status_code == 200
    assert Person.objects.get(user=support_user).last_sign_in_method == Person.Method.LOCAL_2FA


def test_a_recovery_code_works_once(support, support_user):
    codes = enrol(support, support_user)
    for expected in (302, 200):
        browser = Client()
        browser.post(LOGIN, {"username": "support", "password": "pw-support"})
        assert browser.post("/accounts/login/code", {"code": codes[0]}).status_code == expected


def test_a_wrong_password_never_reaches_the_code(support, support_user):
    enrol(support, support_user)
    browser = Client()
    answer = browser.post(LOGIN, {"username": "support", "password": "wrong"})
    assert answer.status_code == 200 and "login/code" not in answer.get("Location", "")
    assert browser.get("/accounts/login/code")["Location"] == "/accounts/login/"


def test_a_people_manager_can_remove_a_lost_second_factor(support, support_user, ops_user):
    enrol(support, support_user)
    ops = Client()
    ops.force_login(ops_user)
    ops.post(f"/people/{support_user.pk}/second-factor/remove")
    assert not TOTPDevice.objects.filter(user=support_user).exists()
    assert Client().post(LOGIN, {"username": "support", "password": "pw-support"})["Location"] == "/"
