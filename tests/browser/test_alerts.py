"""A team lead's alert: the balance set low in the sandbox, the worker's sync, balance check and evaluation raise the
runway alert; the bell counts it, the inbox reads it, and its link leads to the page that fixes it."""

import re

import pytest
from playwright.sync_api import expect

from numbers_app import tasks
from numbers_app.models import Alert
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def test_the_bell_the_inbox_and_the_link_to_the_fix(live_sandbox, login, lead_user, live_server):
    assert live_sandbox.put("/control/balance", json={"balance": 7.5}).status_code == 200
    tasks.sync_mirror.call()  # the worker's sync: the walk
    tasks.refresh_balance.call()  # the worker's balance check: the reading the header and the alert share
    tasks.evaluate_alerts.call()  # the worker's evaluation
    assert Alert.objects.filter(key="runway", state="open").exists()

    page = login(lead_user)
    bell = page.locator("#alert-bell")
    expect(bell).to_have_attribute("aria-label", "Alerts: 1 unread")
    bell.click()
    expect(page).to_have_url(re.compile(r"/alerts/$"))
    expect(page.locator("#alerts")).to_contain_text("runs out on")
    screenshot(page, "alerts-inbox")

    page.get_by_role("button", name=re.compile(r"^The balance runs out")).click()
    expect(page.locator("#alert-sentence")).to_contain_text("top up at least EUR")
    expect(bell).to_have_attribute("aria-label", "Alerts: 0 unread")
    page.locator("#alert-fix").click()
    expect(page).to_have_url(re.compile(r"/billing/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Billing")
    assert not page.errors, page.errors
