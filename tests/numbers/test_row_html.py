"""The owned list's rows (numbers_app.text.row_html): every value escaped; the agent options once per
page, not per row; a page whose HTML does not grow with the agents."""

import re
from datetime import UTC, datetime

import pytest

from numbers_app.text.explain import Problem
from numbers_app.text.presenters import NumberRow
from numbers_app.text.row_html import Permissions, row_html

HOSTILE = '<script>alert("x")</script>'
EVERYTHING = Permissions(can_assign=True, can_release=True, can_reclaim=True, can_tag=True)


def hostile_row(status: str = "active") -> NumberRow:
    row = NumberRow(
        id=7,
        phone_number="+31201234567",
        display=HOSTILE,
        country=HOSTILE,
        status=status,
        agent_id=3,
        agent_name=HOSTILE,
        tags=(HOSTILE, "vip"),
        reclaim_before=datetime(2026, 12, 1, tzinfo=UTC) if status == "pending_release" else None,
        purchased_at=None,
        problem=Problem(HOSTILE, HOSTILE),
    )
    return row


@pytest.mark.parametrize("status", ["active", "pending_release", "gone"])
def test_every_value_of_a_row_is_escaped(status):
    html = row_html(hostile_row(status), EVERYTHING)
    assert "<script>" not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert html.startswith('<tr id="number-7" class="row-error"')


@pytest.mark.django_db
def test_the_page_does_not_grow_with_the_agents_whose_options_come_once_from_their_url(support, mirrored):
    from django.utils import timezone
    from django.utils.html import escape

    from numbers_app.mirror import store as mirror
    from numbers_app.models import MirrorAgent

    def page() -> str:
        return support.get("/p/main/").content.decode()

    html = page()
    url = re.search(r'data-agent-options-url="([^"]+)"', html).group(1)
    assert url == "/p/main/agent-options"
    source = re.search(r'<select id="f-agent" name="agent" data-agent-source[^>]*>(.*?)</select>', html, re.S).group(1)
    assert source.count("<option") == 2  # "Any agent", "No agent": every agent comes from the URL
    assert "<template" not in html
    for select in re.findall(r"<select data-agent-select.*?</select>", html, re.S):
        assert select.count("<option") <= 1  # its saved agent (app.js adds "— no agent —")
    rows = re.findall(r'<tr id="number-\d+".*?</tr>', html, re.S)
    assert len(rows) == 50
    assert max(len(r) for r in rows) < 1600  # a pending row, the longest, with its countdown
    options = support.get(url).content.decode()
    agents = list(MirrorAgent.objects.values_list("staffify_id", "name"))
    assert options.count("<option") == len(agents) > 0
    for staffify_id, name in agents:
        assert f'<option value="{staffify_id}">{escape(name)}</option>' in options

    # A thousand agents more: the page weighs what it did (its tokens and times aside); their options grow.
    now = timezone.now()
    MirrorAgent.objects.bulk_create(
        MirrorAgent(staffify_id=900000 + i, name=f"Agent number {i}", last_seen_at=now) for i in range(1000)
    )
    mirror.changed()
    assert abs(len(page()) - len(html)) < 300
    assert support.get(url).content.decode().count("<option") == len(agents) + 1000
    chosen = support.get("/p/main/?agent=900007").content.decode()
    source = re.search(r'<select id="f-agent" name="agent" data-agent-source[^>]*>(.*?)</select>', chosen, re.S).group(
        1
    )
    assert '<option value="900007" selected>Agent number 7</option>' in source and source.count("<option") == 3


@pytest.mark.django_db
def test_the_list_reads_the_agents_names_only_not_every_agent(support, mirrored):
    """A list page needs the agents' names (its rows, its filter, a pending row's previous agent): it
    reads them as one dict kept per mirror version, and never unpickles the agents themselves (1,000
    agents were about 2 ms of every page). Other pages go through them, and get the same agents."""
    from django.core.cache import cache

    from numbers_app import scope, staffify
    from numbers_app.mirror import listing
    from numbers_app.mirror import store as mirror
    from numbers_app.models import MirrorAgent, Project

    cache.clear()
    agent = MirrorAgent.objects.order_by("staffify_id").first()
    html = support.get(f"/p/main/?agent={agent.staffify_id}").content.decode()
    assert f'<option value="{agent.staffify_id}" selected>{agent.name}</option>' in html
    with scope.using(Project.configured()[0].ref):
        current = f"{Project.configured()[0].pk}:{mirror.version()}"
        names = dict(MirrorAgent.objects.values_list("staffify_id", "name"))
        assert cache.get(f"mirror:agent-names:{current}") == names
        assert cache.get(f"mirror:agents:{current}") is None  # the list page never loaded the agents
        agents = listing.agents()
        assert len(agents) == MirrorAgent.objects.count() > 0 and cache.get(f"mirror:agents:{current}") is None
        every = list(agents)  # going through them loads them, once, and keeps them for the version
        assert [a.id for a in every] == list(MirrorAgent.objects.values_list("staffify_id", flat=True))
        assert all(isinstance(a, staffify.Agent) for a in every) and agents[0] == every[0]
        assert cache.get(f"mirror:agents:{current}") == every
        assert staffify.agent_names(agents) is agents.names and staffify.agent_names(every) == agents.names


@pytest.mark.django_db
def test_the_agent_options_need_a_signed_in_viewer_and_make_no_call(support, mirrored, monkeypatch):
    from django.test import Client

    from numbers_app import staffify

    assert Client().get("/p/main/agent-options").status_code == 302  # to the sign-in page
    assert support.post("/p/main/agent-options").status_code == 405

    def refuse(*args, **kwargs):
        raise AssertionError("no Staffify call expected")

    monkeypatch.setattr(staffify.StaffifyClient, "_request", refuse)
    assert support.get("/p/main/agent-options").status_code == 200


@pytest.mark.django_db
def test_a_numbers_own_page_has_every_agent_in_its_dropdown_without_javascript(support, mirrored):
    from numbers_app.models import MirrorAgent

    html = support.get("/p/main/numbers/1001/").content.decode()
    select = re.search(r"<select data-agent-select.*?</select>", html, re.S).group(0)
    assert select.count("<option") == MirrorAgent.objects.count() + 1
