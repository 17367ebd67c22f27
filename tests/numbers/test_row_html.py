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
def test_the_agents_are_listed_once_per_page_and_a_row_carries_its_own(support, mirrored):
    from numbers_app.models import MirrorAgent

    html = support.get("/").content.decode()
    agents = MirrorAgent.objects.count()
    source = re.search(r'<select id="f-agent" name="agent" data-agent-source>(.*?)</select>', html, re.S).group(1)
    assert source.count("<option") == agents + 2  # "Any agent", "No agent": the rows copy the agents from it
    assert "<template" not in html  # the agents are not sent twice
    for select in re.findall(r'<select id="agent-\d+".*?</select>', html, re.S):
        assert select.count("<option") <= 2  # "— no agent —" and its saved agent
    rows = re.findall(r'<tr id="number-\d+".*?</tr>', html, re.S)
    assert len(rows) == 50
    assert max(len(r) for r in rows) < 1600  # a pending row, the longest, with its countdown


@pytest.mark.django_db
def test_a_numbers_own_page_has_every_agent_in_its_dropdown_without_javascript(support, mirrored):
    from numbers_app.models import MirrorAgent

    html = support.get("/numbers/1001/").content.decode()
    select = re.search(r'<select id="agent-1001".*?</select>', html, re.S).group(0)
    assert select.count("<option") == MirrorAgent.objects.count() + 1
