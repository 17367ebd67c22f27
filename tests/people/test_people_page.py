"""The people page: who may see it, invitations (a link shown, or mailed when mail is configured;
expiring), roles, deactivation that ends every session at once, and the audit log of each change."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from numbers_app.models import AuditEntry, Invitation, Person

pytestmark = pytest.mark.django_db
Action = AuditEntry.Action


def test_operations_sees_the_people_and_how_they_sign_in(ops, support_user):
    Person.objects.create(user=support_user, last_sign_in_at=timezone.now(), last_sign_in_method="local_2fa")
    page = ops.get("/people/").content.decode()
    assert f'id="person-{support_user.pk}"' in page
    assert "Password and second factor" in page
    assert ">People</a>" in page  # in the menu


def test_other_roles_may_not_manage_people(support, lead_user):
    answer = support.post(f"/people/{lead_user.pk}/deactivate")
    assert answer.status_code == 403 and "cannot manage people" in answer.content.decode()
    assert get_user_model().objects.get(pk=lead_user.pk).is_active
    assert AuditEntry.objects.get(action=Action.DEACTIVATE).outcome == AuditEntry.Outcome.DENIED
    assert support.get("/people/").status_code == 403
    assert ">People</a>" not in support.get("/p/main/").content.decode()


@pytest.mark.postgres  # the invitation is claimed by a conditional UPDATE inside a transaction
def test_an_invitation_link_is_shown_without_mail_and_makes_the_account_with_its_role(ops, settings):
    settings.INVITATIONS_BY_MAIL = False
    page = ops.post("/people/invite", {"email": "new@example.com", "role": "Support"}).content.decode()
    link = page.split('id="invitation-link"')[0].rsplit('value="', 1)[1].split('"')[0]
    assert link.startswith("http://testserver/accounts/invitation/")
    newcomer = Client()
    join = newcomer.get(link)
    assert "invited as <strong>Support</strong>" in join.content.decode()
    answer = newcomer.post(
        link, {"username": "newbie", "new_password1": "a-long-pass-phrase-9", "new_password2": "a-long-pass-phrase-9"}
    )
    assert answer.status_code == 302
    user = get_user_model().objects.get(username="newbie")
    assert [g.name for g in user.groups.all()] == ["Support"] and user.email == "new@example.com"
    assert newcomer.get("/p/main/").status_code == 200
    assert newcomer.get(link).status_code == 404  # used up
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == [Action.INVITE, Action.JOIN]


def test_an_invitation_is_mailed_when_mail_is_configured(ops, settings, mailoutbox):
    settings.INVITATIONS_BY_MAIL = True
    answer = ops.post("/people/invite", {"email": "mailed@example.com", "role": "Team lead"})
    assert answer.status_code == 302
    assert mailoutbox[0].to == ["mailed@example.com"]
    assert "http://testserver/accounts/invitation/" in mailoutbox[0].body
    assert "invitation-link" not in ops.get("/people/").content.decode()


def test_an_expired_or_withdrawn_invitation_says_so(ops, settings):
    settings.INVITATIONS_BY_MAIL = False
    page = ops.post("/people/invite", {"email": "late@example.com", "role": "Support"}).content.decode()
    link = page.split('id="invitation-link"')[0].rsplit('value="', 1)[1].split('"')[0]
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    answer = Client().get(link)
    assert answer.status_code == 404 and "has expired, was withdrawn or was used already" in answer.content.decode()


def test_bad_invitation_input_is_said_in_place(ops):
    answer = ops.post("/people/invite", {"email": "not-an-address", "role": "Overlord"})
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "Enter a valid email address." in page and "Select a valid choice" in page


def test_setting_a_role_is_audited(ops, support_user):
    ops.post(f"/people/{support_user.pk}/role", {"role": "Team lead"})
    assert [g.name for g in support_user.groups.all()] == ["Team lead"]
    entry = AuditEntry.objects.get(action=Action.SET_ROLE)
    assert entry.before["role"] == ["Support"] and entry.after["role"] == ["Team lead"]
    ops.post(f"/people/{support_user.pk}/role", {"role": ""})
    assert list(support_user.groups.all()) == []


def test_the_role_of_someone_who_signs_in_with_the_provider_comes_from_it(ops, support_user, settings):
    settings.OIDC_ISSUER = "https://idp.example.com"
    settings.OIDC_ROLE_MAP = {"ops": "Operations"}
    Person.objects.create(user=support_user, sso_subject="abc")
    answer = ops.post(f"/people/{support_user.pk}/role", {"role": "Operations"}, follow=True)
    assert "change their group there" in answer.content.decode()
    assert [g.name for g in support_user.groups.all()] == ["Support"]


def test_deactivating_ends_every_session_at_once(ops, support_user):
    phone, laptop = Client(), Client()
    phone.force_login(support_user)
    laptop.force_login(support_user)
    assert phone.get("/p/main/").status_code == 200
    ops.post(f"/people/{support_user.pk}/deactivate")
    for device in (phone, laptop):
        answer = device.get("/p/main/")
        assert answer.status_code == 302 and answer["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in phone.session
    entry = AuditEntry.objects.get(action=Action.DEACTIVATE)
    assert entry.after == {"person": "support", "active": False} and entry.message == "2 sessions ended."
    assert Client().post("/accounts/login/", {"username": "support", "password": "pw-support"}).status_code == 200
    ops.post(f"/people/{support_user.pk}/reactivate")
    assert Client().post("/accounts/login/", {"username": "support", "password": "pw-support"}).status_code == 302


def test_nobody_deactivates_themselves_and_only_an_administrator_an_administrator(ops, ops_user, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="pw-root")
    answer = ops.post(f"/people/{ops_user.pk}/deactivate", follow=True)
    assert "You cannot deactivate yourself" in answer.content.decode()
    answer = ops.post(f"/people/{admin.pk}/deactivate", follow=True)
    assert "Only an administrator can change root" in answer.content.decode()
    assert django_user_model.objects.filter(is_active=False).count() == 0


def test_requiring_a_second_factor_sends_password_only_sessions_to_set_one_up(ops, support_user):
    ops.post("/people/policy", {"require_two_factor": "on"})
    assert AuditEntry.objects.get(action=Action.ACCESS_POLICY).after == {"second_factor_required": True}
    other = Client()
    other.force_login(support_user)
    answer = other.get("/p/main/")
    assert answer.status_code == 302 and answer["Location"] == "/account/two-factor"
    assert "<svg" in other.get("/account/two-factor").content.decode()


def test_people_changes_read_plainly_in_the_audit_log(ops, support_user):
    ops.post(f"/people/{support_user.pk}/deactivate")
    page = ops.get("/p/main/audit/").content.decode()
    assert "person: support; active: yes → no" in page and "Deactivate a person" in page
    csv_text = b"".join(ops.get("/p/main/audit/?format=csv").streaming_content).decode()
    assert "person: support; active: yes → no" in csv_text
