"""Several Staffify projects in one dashboard: the sandbox's organisation org_demo has proj_demo and
proj_eu, reached with its org key (X-Project-Id). Each project's pages live under /p/<project>/; what a
project owns is kept apart; roles are per project; the organisation's bill adds the projects up."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from numbers_app import scope, tasks
from numbers_app.billing import statement
from numbers_app.models import (
    AuditEntry,
    BulkJob,
    NumberNote,
    NumberRecord,
    Project,
    ProjectMembership,
    SyncRun,
)
from numbers_app.roles import ensure_roles
from numbers_app.scheduled import releases
from numbers_app.staffify import budget, lookups
from sandbox.seed import ORG_KEY
from tests.conftest import worker_reads_balance
from tests.helpers import HX

PROJECTS = [
    {"slug": "demo", "name": "Demo", "id": "proj_demo", "key": None},
    {"slug": "eu", "name": "Europe", "id": "proj_eu", "key": None},
]
DEMO_NUMBER, EU_NUMBER = 1001, 951


@pytest.fixture
def two_projects(staffify_sandbox, settings):
    """The dashboard configured with the org key and both projects, each project's mirror synced."""
    settings.STAFFIFY_API_KEY = ORG_KEY
    settings.STAFFIFY_PROJECTS = PROJECTS
    said = tasks.sync_mirror.call()
    assert said.startswith("demo: ok: 60 numbers") and "eu: ok: 6 numbers" in said, said
    return {p.slug: p for p in Project.configured()}


def member(django_user_model, username: str, **roles: str):
    """A person with no global group and ROLES per project slug (a ProjectMembership.Role value)."""
    user = django_user_model.objects.create_user(username=username, password="pw")
    for slug, role in roles.items():
        ProjectMembership.objects.create(user=user, project=Project.objects.get(slug=slug), role=role)
    return user


@pytest.fixture
def eu_ops(django_user_model, two_projects):
    """Operations in Europe only (their own client: `ops` has the default one)."""
    client = Client()
    client.force_login(member(django_user_model, "eu-ops", eu="Operations"))
    return client


def amounts(html: str, selector: str) -> list[Decimal]:
    return [Decimal(v) for v in re.findall(rf'<{selector}[^>]*data-amount="([^"]+)"', html)]


@pytest.mark.django_db
def test_each_project_lists_only_its_own_numbers(ops, two_projects):
    demo = ops.get("/p/demo/").content.decode()
    europe = ops.get("/p/eu/").content.decode()
    assert f"/p/demo/numbers/{DEMO_NUMBER}/" in demo and f"/numbers/{EU_NUMBER}/" not in demo
    assert f"/p/eu/numbers/{EU_NUMBER}/" in europe and f"/numbers/{DEMO_NUMBER}/" not in europe
    assert NumberRecord.everywhere.filter(project=two_projects["eu"]).count() == 6
    with scope.using(two_projects["eu"].ref):
        assert set(NumberRecord.objects.values_list("staffify_id", flat=True)) == set(range(951, 957))
    # The header switches to the same page of the other project.
    assert 'href="/p/eu/billing/"' in ops.get("/p/demo/billing/").content.decode()


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_user_of_one_project_gets_404_for_the_others_number_job_audit_and_csv(eu_ops, ops, two_projects):
    response = ops.post(
        "/p/demo/bulk/start",
        {"scope": "ids", "action": "assign", "agent_id": "102", "ids": str(DEMO_NUMBER)},
        headers=HX,
    )
    job = BulkJob.everywhere.filter(project=two_projects["demo"]).first()
    assert job is not None, response.content.decode()[:300]
    for path in [
        "/p/demo/",
        f"/p/demo/numbers/{DEMO_NUMBER}/",
        "/p/demo/audit/",
        "/p/demo/audit/?format=csv",
        "/p/demo/billing/?format=csv",
        f"/p/demo/jobs/{job.pk}/",
        f"/p/demo/jobs/{job.pk}/results.csv",
    ]:
        assert eu_ops.get(path).status_code == 404, path
        assert eu_ops.get(path, headers=HX).status_code == 404, path
    # Nor through their own project's URLs: the job and the number are another project's.
    assert eu_ops.get(f"/p/eu/jobs/{job.pk}/").status_code == 404
    assert eu_ops.get(f"/p/eu/jobs/{job.pk}/results.csv").status_code == 404
    assert eu_ops.get(f"/p/eu/numbers/{DEMO_NUMBER}/").status_code == 404
    # Their own project answers.
    assert eu_ops.get("/p/eu/").status_code == 200
    assert eu_ops.get(f"/p/eu/numbers/{EU_NUMBER}/").status_code == 200


@pytest.mark.django_db
def test_a_forged_project_in_a_form_changes_nothing(ops, two_projects, staffify_sandbox):
    before = staffify_sandbox.get(f"/v1/phone-numbers/{DEMO_NUMBER}").json()
    # The demo number posted to Europe's URL (a form edited to name another project): not Europe's.
    response = ops.post(f"/p/eu/numbers/{DEMO_NUMBER}/agent", {"agent_id": "201"}, headers=HX)
    assert response.status_code == 404
    response = ops.post(f"/p/eu/numbers/{DEMO_NUMBER}/release/confirm", {}, headers=HX)
    assert response.status_code == 404
    assert staffify_sandbox.get(f"/v1/phone-numbers/{DEMO_NUMBER}").json() == before
    # A bulk job started in Europe with a demo number in its selection touches only Europe's numbers.
    ops.post(
        "/p/eu/bulk/start", {"scope": "ids", "action": "unassign", "ids": f"{DEMO_NUMBER},{EU_NUMBER}"}, headers=HX
    )
    with scope.using(two_projects["eu"].ref):
        job = BulkJob.objects.get()
        assert list(job.rows.values_list("number_id", flat=True)) == [EU_NUMBER]


@pytest.mark.django_db
@pytest.mark.postgres
def test_each_project_keeps_its_own_audit_log(ops, two_projects):
    assert ops.post(f"/p/demo/numbers/{DEMO_NUMBER}/agent", {"agent_id": "102"}, headers=HX).status_code == 200
    assert ops.post(f"/p/eu/numbers/{EU_NUMBER}/agent", {"agent_id": "202"}, headers=HX).status_code == 200
    demo = ops.get("/p/demo/audit/").content.decode()
    europe = ops.get("/p/eu/audit/").content.decode()
    assert "Sales Assistant" in demo and "Madrid Desk" not in demo
    assert "Madrid Desk" in europe and "Sales Assistant" not in europe
    by_project = dict(
        AuditEntry.everywhere.filter(action="assign").values_list("number_id", "project__slug").order_by()
    )
    assert by_project == {DEMO_NUMBER: "demo", EU_NUMBER: "eu"}


@pytest.mark.django_db
def test_roles_are_per_project(client, django_user_model, two_projects, staffify_sandbox):
    client.force_login(member(django_user_model, "mixed", demo="Operations", eu="Team lead"))
    assert client.post(f"/p/demo/numbers/{DEMO_NUMBER}/agent", {"agent_id": "104"}, headers=HX).status_code == 200
    refused = client.post(f"/p/eu/numbers/{EU_NUMBER}/agent", {"agent_id": "202"}, headers=HX)
    assert refused.status_code == 403
    assert "Your role (Team lead) cannot assign agents." in refused.content.decode()
    assert staffify_sandbox.get(f"/v1/phone-numbers/{DEMO_NUMBER}").json()["agent_id"] == 104
    # The refusal is in Europe's audit log, not in the demo project's.
    denied = AuditEntry.everywhere.get(outcome="denied")
    assert (denied.project.slug, denied.number_id) == ("eu", EU_NUMBER)
    # The header names the role of the project shown; the buy link is there only where one may buy.
    assert "· Team lead" in client.get("/p/eu/").content.decode()
    assert 'href="/p/demo/buy/"' in client.get("/p/demo/").content.decode()
    assert 'href="/p/eu/buy/"' not in client.get("/p/eu/").content.decode()


@pytest.mark.django_db
def test_a_membership_overrides_the_global_group_down_to_no_access(client, ops_user, two_projects):
    ProjectMembership.objects.create(user=ops_user, project=two_projects["eu"], role="none")
    client.force_login(ops_user)
    assert client.get("/p/demo/").status_code == 200
    assert client.get("/p/eu/").status_code == 404
    assert client.get("/p/eu/billing/").status_code == 404
    switcher = client.get("/p/demo/").content.decode()
    assert 'href="/p/eu/"' not in switcher
    # With one project left to see, there is no switcher at all.
    assert "Switch project" not in switcher


@pytest.mark.django_db
def test_the_old_urls_redirect_to_the_users_default_project(eu_ops, ops, two_projects):
    response = ops.get(f"/numbers/{DEMO_NUMBER}/?from=bookmark")
    assert response.status_code == 302 and response["Location"] == f"/p/demo/numbers/{DEMO_NUMBER}/?from=bookmark"
    assert ops.get("/billing/?country=NL")["Location"] == "/p/demo/billing/?country=NL"
    assert eu_ops.get("/?status=active")["Location"] == "/p/eu/?status=active"  # their first project they may see
    assert ops.get("/p/nowhere/").status_code == 404


@pytest.mark.django_db
@pytest.mark.postgres
def test_the_organisations_bill_is_the_sum_of_the_projects(ops, two_projects):
    worker_reads_balance()  # the organisation's balance, as the worker keeps it
    html = ops.get("/org/billing/").content.decode()
    rows = {slug: row for slug, row in re.findall(r'<tr data-project="(\w+)">(.*?)</tr>', html, re.S)}
    assert set(rows) == {"demo", "eu"}
    total = re.search(r'<tr id="org-total">(.*?)</tr>', html, re.S).group(1)
    per_project = [amounts(row, "td") for row in rows.values()]
    assert amounts(total, "td") == [sum(column) for column in zip(*per_project, strict=True)]
    # Each project's figures are its own billing page's.
    for slug, row in rows.items():
        page = ops.get(f"/p/{slug}/billing/").content.decode()
        due_7, due_28, _idle = amounts(row, "td")
        assert amounts(page, r'span class="stat-value" id="due-7"') == [due_7]
        assert amounts(page, r'span class="stat-value" id="due-28"') == [due_28]
    assert amounts(total, "td")[1] == Decimal("5.00") * (57 + 6)  # every active number renews once in 28 days
    assert 'id="org-balance"' in html


@pytest.mark.django_db
def test_a_number_is_found_in_every_project_one_may_see(eu_ops, ops, two_projects):
    demo_phone = NumberRecord.everywhere.get(staffify_id=DEMO_NUMBER).phone_number
    eu_phone = NumberRecord.everywhere.get(staffify_id=EU_NUMBER).phone_number
    html = ops.get("/org/search", {"q": eu_phone[-7:]}).content.decode()
    assert f'href="/p/eu/numbers/{EU_NUMBER}/"' in html
    html = ops.get("/org/search", {"q": demo_phone[-7:]}).content.decode()
    assert f'href="/p/demo/numbers/{DEMO_NUMBER}/"' in html
    assert f"/numbers/{DEMO_NUMBER}/" not in eu_ops.get("/org/search", {"q": demo_phone[-7:]}).content.decode()
    assert ops.get("/org/search", {"q": "1"}).status_code == 400  # too few digits: said in place


@pytest.mark.django_db
def test_both_projects_sync_on_one_budget_with_no_rate_limited_call(two_projects, staffify_sandbox):
    # One organisation, one budget: the digest of the org key, whichever project speaks.
    with scope.using(two_projects["eu"].ref):
        name = budget.organisation()
    assert name == budget.organisation()
    tasks.sync_mirror.call()
    runs = SyncRun.everywhere.order_by("-id")[:2]
    assert {run.project.slug for run in runs} == {"demo", "eu"}
    assert all(run.state == "ok" and not run.error for run in runs)
    state = budget.state()
    sandbox_limit = staffify_sandbox.get("/control/rate-limit").json()["per_minute"]
    assert state.limit == sandbox_limit and state.page_paused_until == 0 and state.background_paused_until == 0
    # The budget counted both projects' calls against the organisation's one window.
    window = staffify_sandbox.get("/v1/credits")
    assert int(window.headers["X-RateLimit-Remaining"]) < state.remaining


@pytest.mark.django_db
def test_a_single_key_without_projects_serves_one_project_as_before(ops, mirrored):
    assert [p.slug for p in Project.configured()] == ["main"]
    assert NumberRecord.everywhere.exclude(project__slug="main").count() == 0
    assert ops.get("/p/main/").status_code == 200
    assert ops.get("/")["Location"] == "/p/main/"


@pytest.mark.django_db
def test_global_groups_still_mean_every_project(client, django_user_model, two_projects):
    ensure_roles()
    user = django_user_model.objects.create_user(username="lead-everywhere", password="pw")
    user.groups.add(Group.objects.get(name="Team lead"))
    client.force_login(user)
    for slug in ("demo", "eu"):
        assert client.get(f"/p/{slug}/").status_code == 200
        assert (
            client.post(
                f"/p/{slug}/numbers/{DEMO_NUMBER if slug == 'demo' else EU_NUMBER}/agent", {"agent_id": "1"}, headers=HX
            ).status_code
            == 403
        )


@pytest.mark.django_db
def test_a_role_granted_in_the_admin_is_audited_in_its_project(admin_client, django_user_model, two_projects):
    person = django_user_model.objects.create_user(username="newcomer", password="pw")
    response = admin_client.post(
        "/admin/numbers/projectmembership/add/",
        {"user": person.pk, "project": two_projects["eu"].pk, "role": "Support"},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    membership = ProjectMembership.objects.get(user=person)
    assert membership.role == "Support"
    entry = AuditEntry.everywhere.get(action="role")
    assert (entry.project.slug, entry.username, entry.after) == ("eu", "admin", {"user": "newcomer", "role": "Support"})
    assert "role of newcomer: their groups&#x27; → Support" in admin_client.get("/p/eu/audit/").content.decode()
    admin_client.post(f"/admin/numbers/projectmembership/{membership.pk}/delete/", {"post": "yes"})
    assert not ProjectMembership.objects.exists()
    assert AuditEntry.everywhere.filter(action="role").count() == 2
    assert admin_client.get("/admin/numbers/auditentry/").status_code == 200


@pytest.mark.django_db
def test_pages_outside_the_projects_link_to_the_persons_own_project(eu_ops):
    html = eu_ops.get("/account/preferences").content.decode()
    assert 'href="/p/eu/billing/"' in html and "/p/demo/" not in html
    assert 'href="/p/eu/"' in eu_ops.get("/org/billing/").content.decode()


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_projects_csvs_stream_its_own_rows(ops, two_projects):
    """The CSVs are streamed after the view returns: they are still read in the URL's project."""
    assert ops.post(f"/p/eu/numbers/{EU_NUMBER}/agent", {"agent_id": "202"}, headers=HX).status_code == 200
    billing = b"".join(ops.get("/p/eu/billing/?format=csv").streaming_content).decode()
    assert len(billing.strip().splitlines()) == 1 + 6
    audit = b"".join(ops.get("/p/eu/audit/?format=csv").streaming_content).decode()
    assert "Madrid Desk" in audit and len(audit.strip().splitlines()) == 1 + 1
    ops.post("/p/eu/bulk/start", {"scope": "ids", "action": "unassign", "ids": str(EU_NUMBER)}, headers=HX)
    job = BulkJob.everywhere.get(project=two_projects["eu"])
    rows = b"".join(ops.get(f"/p/eu/jobs/{job.pk}/results.csv").streaming_content).decode()
    assert str(NumberRecord.everywhere.get(staffify_id=EU_NUMBER).phone_number) in rows


@pytest.mark.django_db
def test_a_projects_alert_reaches_only_those_who_may_see_that_project(django_user_model, two_projects):
    """The sync failing in Europe is Europe's alert: Operations there hear of it, Operations of the demo
    project alone do not; its link stays in Europe; the same condition in each project is two alerts."""
    from datetime import timedelta

    from django.utils import timezone

    from numbers_app.alerts import engine
    from numbers_app.models import Alert, InboxItem

    europe = member(django_user_model, "eu-only", eu="Operations")
    demo = member(django_user_model, "demo-only", demo="Operations", eu="none")
    now = timezone.now()
    SyncRun.everywhere.update(started_at=now - timedelta(hours=3), finished_at=now - timedelta(hours=3))
    with scope.using(two_projects["eu"].ref):
        SyncRun.objects.create(state="failed", started_at=now - timedelta(hours=2), finished_at=now, error="401")
    summary = engine.evaluate(now)
    assert "eu:sync" in summary.raised and "demo:sync" not in summary.raised
    alert = Alert.objects.get(key="eu:sync")
    assert alert.project == two_projects["eu"] and alert.link.startswith("/p/eu/")
    assert alert.title.startswith(two_projects["eu"].name)
    assert InboxItem.objects.filter(alert=alert, user=europe).exists()
    assert not InboxItem.objects.filter(alert=alert, user=demo).exists()
    viewer = Client()
    viewer.force_login(demo)
    assert viewer.get(f"/alerts/{alert.pk}/").status_code == 404
    with scope.using(two_projects["demo"].ref):
        SyncRun.objects.create(state="failed", started_at=now - timedelta(hours=2), finished_at=now, error="401")
    assert "demo:sync" in engine.evaluate(now).raised
    assert Alert.objects.filter(kind="sync", state="open").count() == 2


# --- Issue 23 per project: notes, costs, the agents page, billing net of scheduled releases ---------


def save_note(client, slug: str, number_id: int, name: str, note: str):
    return client.post(f"/p/{slug}/numbers/{number_id}/note", {"name": name, "note": note}, headers=HX)


def streamed(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return b"".join(response.streaming_content).decode()


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_note_in_one_project_never_shows_in_the_other(ops, two_projects):
    assert save_note(ops, "demo", DEMO_NUMBER, "Front desk", "Zanzibar office").status_code == 200
    # Where the demo project shows it...
    assert "Zanzibar office" in ops.get("/p/demo/?q=zanzibar").content.decode()
    assert "Zanzibar office" in ops.get("/p/demo/audit/").content.decode()
    assert "Zanzibar office" in streamed(ops, "/p/demo/billing/?format=csv")
    assert "Zanzibar office" in streamed(ops, "/p/demo/audit/?format=csv")
    # ...Europe's pages, search and CSVs never do.
    assert f"/numbers/{DEMO_NUMBER}/" not in ops.get("/p/eu/?q=zanzibar").content.decode()
    for path in ["/p/eu/", "/p/eu/?q=front+desk", "/p/eu/audit/", f"/p/eu/numbers/{EU_NUMBER}/"]:
        html = ops.get(path).content.decode()
        assert "Zanzibar" not in html and "Front desk" not in html, path
    for path in ["/p/eu/billing/?format=csv", "/p/eu/audit/?format=csv"]:
        assert "Zanzibar" not in streamed(ops, path), path
    # Nor is the demo number's note reached, or written, through Europe's URLs.
    assert ops.get(f"/p/eu/numbers/{DEMO_NUMBER}/note/edit", headers=HX).status_code == 404
    assert save_note(ops, "eu", DEMO_NUMBER, "Hijacked", "").status_code == 404
    # One note per (project, number): a row of the same id in Europe is Europe's own and changes nothing here.
    with scope.using(two_projects["eu"].ref):
        assert not NumberNote.objects.filter(staffify_id=DEMO_NUMBER).exists()
        NumberNote.objects.create(staffify_id=DEMO_NUMBER, name="Europe's own")
    kept = NumberNote.everywhere.filter(staffify_id=DEMO_NUMBER).values_list("project__slug", "name")
    assert sorted(kept) == [("demo", "Front desk"), ("eu", "Europe's own")]
    assert "Europe" not in ops.get(f"/p/demo/numbers/{DEMO_NUMBER}/").content.decode().split('id="note-facts"')[1][:300]


@pytest.mark.django_db
def test_a_note_is_edited_with_the_role_of_its_project(client, django_user_model, two_projects):
    client.force_login(member(django_user_model, "mixed", demo="Support", eu="Team lead"))
    assert save_note(client, "demo", DEMO_NUMBER, "Reception", "").status_code == 200
    refused = save_note(client, "eu", EU_NUMBER, "Reception", "")
    assert refused.status_code == 403
    assert client.get(f"/p/eu/numbers/{EU_NUMBER}/note/edit", headers=HX).status_code == 403
    assert list(NumberNote.everywhere.values_list("project__slug", "staffify_id")) == [("demo", DEMO_NUMBER)]
    refusal = AuditEntry.everywhere.get(action=AuditEntry.Action.NOTE, outcome=AuditEntry.Outcome.DENIED)
    assert (refusal.project.slug, refusal.number_id) == ("eu", EU_NUMBER)


@pytest.mark.django_db
@pytest.mark.postgres
def test_costs_and_agents_read_only_their_projects_numbers(ops, two_projects):
    tag_groups = {}
    for slug in ("demo", "eu"):
        known = NumberRecord.everywhere.filter(project=two_projects[slug])
        active = known.filter(last_status="active", gone_at__isnull=True).count()
        html = ops.get(f"/p/{slug}/billing/costs?group=tag&start=2026-01-01").content.decode()
        total = re.search(r'<tr id="costs-total">(.*?)</tr>', html, re.S).group(1)
        assert re.findall(r"<td>(\d+)</td>", total)[0] == str(active), slug
        tag_groups[slug] = set(re.findall(r'<tr data-group="([^"]*)">', html))
        # Every number the project ever knew is grouped (one gone since was charged while held).
        assert tag_groups[slug] == {t.lower() for tags in known.values_list("tags", flat=True) for t in tags} | (
            {""} if any(not tags for tags in known.values_list("tags", flat=True)) else set()
        ), slug
        csv_body = streamed(ops, f"/p/{slug}/billing/costs?group=agent&format=csv")
        total_line = next(line for line in csv_body.splitlines() if line.startswith("TOTAL"))
        assert total_line.split(",")[1] == str(active), slug
        # A group's link is the owned list of its project.
        assert f'href="/p/{slug}/?' in html
    assert tag_groups["demo"] != tag_groups["eu"]
    demo, europe = ops.get("/p/demo/agents/").content.decode(), ops.get("/p/eu/agents/").content.decode()
    assert "Sales Assistant" in demo and "Madrid Desk" not in demo
    assert "Madrid Desk" in europe and "Sales Assistant" not in europe
    assert 'href="/p/eu/?agent=' in europe and "/p/demo/" not in europe.split('id="agents-table"')[1]


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_scheduled_release_nets_its_projects_totals_and_the_shared_runway(
    ops, ops_user, two_projects, staffify_sandbox
):
    now = lookups.staffify_now()
    soonest = (
        NumberRecord.everywhere.filter(statement.DATED, gone_at__isnull=True, next_charge_at__gt=now)
        .select_related("project")
        .order_by("next_charge_at")
        .first()
    )
    assert soonest is not None
    other = "eu" if soonest.project.slug == "demo" else "demo"
    staffify_sandbox.put("/control/balance", json={"balance": "0.00"})  # the first renewal is not covered
    worker_reads_balance()
    before = {slug: ops.get(f"/p/{slug}/billing/").content.decode() for slug in ("demo", "eu")}
    costs_before = ops.get(f"/p/{other}/billing/costs").content.decode()
    with scope.using(soonest.project.ref):
        releases.schedule(soonest, ops_user, unassign_first=True, now=now)
    after = {slug: ops.get(f"/p/{slug}/billing/").content.decode() for slug in ("demo", "eu")}
    # The project's own totals are net of its release; the other project's are not touched.
    assert 'id="due-28-gross"' in after[soonest.project.slug]
    assert 'id="due-28-gross"' not in after[other]
    assert after[other].split('id="due-28"')[1][:60] == before[other].split('id="due-28"')[1][:60]
    assert (
        ops.get(f"/p/{other}/billing/costs").content.decode().split('id="costs-total"')[1]
        == (costs_before.split('id="costs-total"')[1])
    )
    # The balance is shared: its runway leaves the release out whichever project's page says it.
    runways = {slug: html.split('id="runway" data-at="')[1].split('"')[0] for slug, html in after.items()}
    gross = before["demo"].split('id="runway" data-at="')[1].split('"')[0]
    assert runways["demo"] == runways["eu"] > gross
    assert all('id="runway-gross"' in html for html in after.values())
    assert 'id="org-runway-gross"' in ops.get("/org/billing/").content.decode()


@pytest.mark.django_db
def test_the_old_costs_agents_and_note_urls_redirect_to_the_project(eu_ops, ops, two_projects):
    assert ops.get("/billing/costs?group=tag")["Location"] == "/p/demo/billing/costs?group=tag"
    assert ops.get("/agents/")["Location"] == "/p/demo/agents/"
    assert eu_ops.get("/agents/")["Location"] == "/p/eu/agents/"
    assert ops.get(f"/numbers/{DEMO_NUMBER}/note/view")["Location"] == f"/p/demo/numbers/{DEMO_NUMBER}/note/view"


@pytest.mark.django_db
@pytest.mark.postgres
def test_the_shared_runway_reads_each_projects_order_and_equals_the_organisations(ops_user, two_projects):
    """The organisation's runway finds its k-th renewal in each project's own order and merges them:
    at every place, gross and net of a release, the charge is the one of the two projects' rows
    ordered together (by next charge, then id)."""
    from numbers_app.organisation import figures

    now = lookups.staffify_now()
    owned = figures.served_numbers()
    projects = [p.pk for p in figures.served_projects()]
    assert owned.values("project").distinct().count() == 2
    soonest = owned.filter(statement.DATED, next_charge_at__gt=now).select_related("project")
    released = soonest.order_by("next_charge_at").first()
    assert released is not None
    with scope.using(released.project.ref):
        releases.schedule(released, ops_user, unassign_first=True, now=now)
    oldest = statement.oldest_charge(owned)
    rows = sorted(owned.filter(statement.DATED).values_list("next_charge_at", "staffify_id"))
    assert oldest is not None and oldest > now and len(rows) > 4
    for netted in (False, True):
        expected = [due for due, sid in rows if not (netted and sid == released.staffify_id)]
        found = [statement._nth_charge(owned, now, oldest, i, netted, projects) for i in range(len(expected) + 1)]
        assert found == [*expected, None], netted
