"""What the dashboard must remember because Staffify does not tell us.

- NumberRecord: the local ledger per number (purchase time when we bought it, the reclaim deadline of
  a release we made, the last state seen). Its Meta also carries the dashboard's permissions.
- PurchaseAttempt: one row per confirmed purchase form, keyed by the form's one-time token, so a
  double click or a resubmitted form buys once.
- AddressBookEntry: the addresses the dashboard knows of, since Staffify documents no way to list them.
- Project and ProjectMembership: the Staffify projects served (from STAFFIFY_PROJECTS), and who holds
  which role in which one. What a project owns (the mirror, the audit log, purchases, syncs, bulk jobs,
  scheduled releases) carries its project and is read through `ProjectScoped` managers; what the
  organisation owns (the address book, the balance, the rate budget) is shared.
"""

from __future__ import annotations

import uuid
from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import Expression, Q
from django.utils import timezone

from numbers_app import scope
from numbers_app.rules import ADDRESS_DOCUMENT_TYPES


class Project(models.Model):
    """A Staffify project the dashboard serves. The rows follow settings.STAFFIFY_PROJECTS (`configured`):
    a project dropped from the configuration keeps its rows (and its history) but is no longer served."""

    slug = models.SlugField(max_length=40, unique=True)  # its name in URLs: /p/<slug>/
    name = models.CharField(max_length=100)
    staffify_id = models.CharField(max_length=40, blank=True)  # proj_…; empty: the one key's own project

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def ref(self) -> scope.ProjectRef:
        return scope.ProjectRef(pk=self.pk, slug=self.slug, staffify_id=self.staffify_id or None, name=self.name)

    def visible_to(self, user) -> bool:
        """Whether USER may see this project's pages (and hear of its alerts): their role here (a
        membership, else their groups) lets them see the dashboard."""
        if not user.is_authenticated or not user.is_active:
            return False
        with scope.using(self.ref):
            return user.has_perm("numbers.view_dashboard")

    @classmethod
    def configured(cls) -> list[Project]:
        """The served projects in the configured order (the first is the default), their rows made or
        renamed to match the configuration. One query when nothing changed."""
        wanted = settings.STAFFIFY_PROJECTS
        rows = {p.slug: p for p in cls.objects.filter(slug__in=[w["slug"] for w in wanted])}
        found: list[Project] = []
        for entry in wanted:
            row: Project | None = rows.get(str(entry["slug"]))
            name, staffify_id = str(entry["name"]), entry["id"] or ""
            if row is None:
                row = cls._adopted(entry, first=not found, served=[str(w["slug"]) for w in wanted])
            if row is None:
                row, _ = cls.objects.get_or_create(
                    slug=entry["slug"], defaults={"name": name, "staffify_id": staffify_id}
                )
            if (row.slug, row.name, row.staffify_id) != (entry["slug"], name, staffify_id):
                row.slug, row.name, row.staffify_id = str(entry["slug"]), name, staffify_id
                row.save(update_fields=["slug", "name", "staffify_id"])
            found.append(row)
        return found

    @classmethod
    def _adopted(cls, entry: dict, *, first: bool, served: list[str]) -> Project | None:
        """The row a newly configured project continues, so that its mirror and history carry on: the
        row of the same Staffify id under another slug, or, for the first project, the row of the
        one-key setup (no id, e.g. /p/main/) that is no longer served."""
        unserved = cls.objects.exclude(slug__in=served)
        if entry["id"]:
            found = unserved.filter(staffify_id=entry["id"]).first()
            if found is not None:
                return found
        return unserved.filter(staffify_id="").first() if first else None


def current_project_pk() -> int:
    """The pk of the project the code works for now (numbers_app.scope), else the default project's."""
    ref = scope.current()
    return ref.pk if ref is not None else Project.configured()[0].pk


class CurrentProject(Expression):
    """The current project's pk, read when the SQL is compiled, not when the queryset is built: a
    queryset made at import (a form's choices) still follows the project of the request that runs it."""

    output_field = models.BigIntegerField()

    def as_sql(self, compiler, connection):
        return "%s", [current_project_pk()]


class ProjectScoped(models.Manager):
    """The default manager of what a project owns: the current project's rows only. A row made without
    a project gets the current one (the field's default). `everywhere` reads every project's (the admin,
    the worker finding a job's project, the organisation's views)."""

    def get_queryset(self):
        return super().get_queryset().filter(project_id=CurrentProject())


class AllProjects(models.Manager):
    """Every project's rows (the admin, the worker finding a job's project, the organisation's views)."""


def _project_field() -> models.ForeignKey:
    return models.ForeignKey(Project, on_delete=models.PROTECT, default=current_project_pk, related_name="+")


class ProjectMembership(models.Model):
    """A person's role in one project, overriding their groups there: a global group (Operations,
    Support, Team lead) means that role in every project; a membership says otherwise for one, down
    to no access at all (its pages answer 404). Granted in the Django admin; each grant is audited."""

    class Role(models.TextChoices):
        OPERATIONS = "Operations", "Operations"
        SUPPORT = "Support", "Support"
        TEAM_LEAD = "Team lead", "Team lead"
        NONE = "none", "No access"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_roles")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "project"], name="one_role_per_project")]
        ordering = ["project", "user"]

    def __str__(self) -> str:
        return f"{self.user} in {self.project}: {self.get_role_display()}"


class NumberRecord(models.Model):
    """One number of the account: the mirror of what Staffify says (status, agent, tags), confirmed
    at `last_seen_at`, plus what the dashboard learned itself (purchase time, reclaim deadline, when it
    first saw the number). Staffify stays the truth; pages read this and say how old it is."""

    project = _project_field()
    staffify_id = models.BigIntegerField()  # unique in its project (Meta)
    phone_number = models.CharField(max_length=32, db_index=True)
    purchased_at = models.DateTimeField(null=True, blank=True)
    bought_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reclaim_before = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=32, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)  # when Staffify last confirmed this row
    # The mirror of Staffify's number object (documented fields, plus the sandbox's extras when sent).
    agent_id = models.BigIntegerField(null=True, blank=True)
    agent_name = models.CharField(max_length=200, blank=True)
    tags = models.JSONField(default=list, blank=True)
    country_code = models.CharField(max_length=2, blank=True)
    number_type = models.CharField(max_length=16, blank=True)
    first_seen_at = models.DateTimeField(null=True, blank=True)  # bounds an unknown purchase time
    # When the dashboard first knew it pending release: the release came before, so a deadline nobody
    # told us is at most this + 7 days.
    pending_seen_at = models.DateTimeField(null=True, blank=True)
    next_charge_at = models.DateTimeField(null=True, blank=True)  # from purchased_at; refreshed by each sync
    gone_at = models.DateTimeField(null=True, blank=True)  # a sync no longer found it in the account
    sync_run = models.BigIntegerField(null=True, blank=True)  # the last sync that saw it

    objects = ProjectScoped()
    everywhere = AllProjects()

    class Meta:
        ordering = ["staffify_id"]
        # Staffify's ids are unique across its API; per project here, so that a project's mirror never
        # depends on another's (a number kept in a project no longer served, say). Id first: the index
        # also finds a number's project whatever it is (numbers_app.web.projects).
        constraints = [models.UniqueConstraint(fields=["staffify_id", "project"], name="mirror_number_per_project")]
        indexes = [
            models.Index(
                fields=["project", "gone_at", "staffify_id"], name="mirror_order"
            ),  # the list in Staffify's order
            models.Index(fields=["project", "gone_at", "last_status"], name="mirror_status"),
            models.Index(fields=["project", "gone_at", "agent_id"], name="mirror_agent"),
            models.Index(fields=["project", "gone_at", "country_code"], name="mirror_country"),
            models.Index(fields=["project", "gone_at", "next_charge_at"], name="mirror_next_charge"),
            # Billing: the active numbers by next charge, read from the index alone (SQLite fetching
            # 90,000 wide rows one by one to count them took seconds).
            models.Index(
                fields=["project", "gone_at", "last_status", "next_charge_at", "agent_id", "staffify_id"],
                name="mirror_billing",
            ),
            # The owned numbers by next charge, then id (billing's table, the list sorted by next charge):
            # partial, because PostgreSQL takes no order from (gone_at, ...) under "gone_at IS NULL".
            models.Index(
                fields=["project", "next_charge_at", "staffify_id"],
                name="owned_next_charge",
                condition=Q(gone_at__isnull=True),
            ),
            # The list filtered by agent, in its order: the page's 50 rows straight from the index. Through
            # mirror_order PostgreSQL walked the account until 51 rows of the agent turned up (3,000 rows
            # at 50 agents, 50,000 for an agent of 100 numbers at 1,000 agents).
            models.Index(
                fields=["project", "agent_id", "staffify_id"],
                name="owned_agent_order",
                condition=Q(gone_at__isnull=True),
            ),
            models.Index(fields=["project", "gone_at", "purchased_at"], name="mirror_purchased"),
            models.Index(fields=["project", "sync_run"], name="mirror_sync_run"),
        ]
        permissions = [
            ("view_dashboard", "Can see the numbers, billing and audit pages"),
            ("buy_number", "Can search and buy numbers"),
            ("release_number", "Can release numbers"),
            ("reclaim_number", "Can reclaim released numbers"),
            ("assign_agent", "Can assign and unassign agents"),
            ("edit_tags", "Can edit tags"),
        ]

    def __str__(self) -> str:
        return f"{self.phone_number} (#{self.staffify_id})"


class MirrorVersion(models.Model):
    """One row: a counter bumped in the same transaction as every change to the mirror's rows (a sync
    page, a write here, numbers gone). Counts cached under it (numbers_app.mirror.listing) are stale exactly
    when the rows they counted are, in every process, whatever the cache (a per-process one included:
    the worker's sync is seen by the web processes)."""

    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"mirror version {self.version}"


class NumberTag(models.Model):
    """One tag (lower case) of one number in the account: the owned list's tag filter is an exact,
    indexed match at any size (not a substring scan of the tags). numbers_app.mirror.store keeps these
    rows in step with `NumberRecord.tags` on every sync page and every write; a gone number has none."""

    project = _project_field()
    staffify_id = models.BigIntegerField()
    tag = models.TextField()

    objects = ProjectScoped()
    everywhere = AllProjects()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "tag", "staffify_id"], name="number_tag_unique")]
        indexes = [models.Index(fields=["project", "staffify_id"], name="number_tag_number")]

    def __str__(self) -> str:
        return f"#{self.staffify_id}: {self.tag}"


class NumberNote(models.Model):
    """A short name and a free-text note a team keeps about a number. Staffify has no such field: the
    dashboard keeps them, keyed by the project and the Staffify id (not the mirror row), so they survive
    a release, a reclaim and a mirror row that a sync marks gone, and one project's notes are never
    read in another. Every change is in the audit log (before/after)."""

    NAME_MAX = 80
    NOTE_MAX = 2000

    project = _project_field()
    staffify_id = models.BigIntegerField()  # unique in its project (Meta)
    name = models.CharField(max_length=NAME_MAX, blank=True)
    note = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    objects = ProjectScoped()
    everywhere = AllProjects()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "staffify_id"], name="number_note_per_project")]

    def __str__(self) -> str:
        return f"#{self.staffify_id}: {self.name}"


class PurchaseAttempt(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Sending to Staffify"
        SUCCEEDED = "succeeded", "Bought"
        FAILED = "failed", "Refused"
        UNKNOWN = "unknown", "Outcome unknown"

    project = _project_field()
    token = models.UUIDField(unique=True, default=uuid.uuid4)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    phone_number = models.CharField(max_length=32)
    country_code = models.CharField(max_length=2)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    staffify_id = models.BigIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProjectScoped()
    everywhere = AllProjects()

    def __str__(self) -> str:
        return f"{self.phone_number}: {self.state}"


class AuditEntry(models.Model):
    """Who did what through the dashboard, and how it ended. Staffify cannot tell the team apart
    (one shared key), so this is the only record of it. A write is recorded `sent` before it leaves
    (numbers_app.changes.settle); its answer turns the entry into done or failed, or `unknown` when no answer
    came. Entries are never edited after that, except that `sent` and `unknown` ones are settled once
    the dashboard has read Staffify's state back."""

    class Action(models.TextChoices):
        BUY = "buy", "Buy"
        ASSIGN = "assign", "Assign agent"
        UNASSIGN = "unassign", "Unassign agent"
        TAGS = "tags", "Edit tags"
        NOTE = "note", "Edit name and note"
        RELEASE = "release", "Release"
        RECLAIM = "reclaim", "Reclaim"
        OUTSIDE = "outside", "Changed outside the dashboard"
        LOGIN_LOCKOUT = "login_lockout", "Login locked out"
        LOGIN_FAILED = "login_failed", "Failed sign-in"
        ADDRESS_CREATE = "address_create", "Create address"
        ADDRESS_ADD = "address_add", "Add address by id"
        ADDRESS_DOCUMENT = "address_document", "Upload address document"
        ADDRESS_SUBMIT = "address_submit", "Submit address"
        ADDRESS_CHECK = "address_check", "Check address status"
        PURCHASE_TIME = "purchase_time", "Set purchase time"
        SCHEDULE_RELEASE = "sched_release", "Schedule release before the next charge"
        CANCEL_SCHEDULED = "sched_cancel", "Cancel scheduled release"
        DISMISS_SCHEDULED = "sched_dismiss", "Dismiss scheduled release alert"
        BULK = "bulk", "Bulk job"
        ROLE = "role", "Change a project role"
        SSO_SIGN_IN = "sso_sign_in", "Signed in with single sign-on"
        SSO_REFUSED = "sso_refused", "Single sign-on refused"
        INVITE = "invite", "Invite a person"
        INVITE_REVOKE = "invite_revoke", "Withdraw an invitation"
        JOIN = "join", "Accept an invitation"
        SET_ROLE = "set_role", "Set a person's role"
        ALERT_THRESHOLDS = "alert_thresholds", "Alert thresholds"
        ALERT_SUBSCRIBE = "alert_subscribe", "Alert subscriptions"
        ALERT_WEBHOOK = "alert_webhook", "Alert webhook"
        DEACTIVATE = "deactivate", "Deactivate a person"
        REACTIVATE = "reactivate", "Reactivate a person"
        TWO_FACTOR = "two_factor", "Second factor"
        ACCESS_POLICY = "access_policy", "Sign-in rules"

    class Outcome(models.TextChoices):
        OK = "ok", "Done"
        ERROR = "error", "Failed at Staffify"
        INVALID = "invalid", "Invalid input"
        DENIED = "denied", "Not allowed for the role"
        UNKNOWN = "unknown", "Outcome unknown"
        SENT = "sent", "Sent, no answer yet"
        LOCKED_OUT = "locked_out", "Locked out"
        WRONG_LOGIN = "wrong_login", "Wrong name or password"

    project = _project_field()
    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    username = models.CharField(max_length=150)  # kept when the user is deleted
    action = models.CharField(max_length=16, choices=Action.choices)
    number_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    phone_number = models.CharField(max_length=32, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    error_code = models.CharField(max_length=64, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    request_id = models.CharField(max_length=100, blank=True)
    message = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # The bulk job this entry belongs to (numbers_app.bulk.jobs), when a job made it.
    bulk_job = models.ForeignKey(
        "BulkJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )

    objects = ProjectScoped()
    everywhere = AllProjects()

    change: str  # not a column: the views set it for display (audit.change_summary)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.phone_number} {self.outcome}"


class Preference(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dashboard_preference")
    time_zone = models.CharField(max_length=64, blank=True, help_text="Empty: the site's time zone.")
    # The daily alert digest (numbers_app.alerts.digest): its local time, and the local day last sent for.
    digest_time = models.TimeField(default=time(8, 0))
    digest_last_on = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user}: {self.time_zone or 'site default'}"


class PeriodicTaskState(models.Model):
    """When the scheduler last enqueued one periodic task (numbers_app.schedule). Each worker claims
    a due task with one conditional UPDATE of this row, so of several workers only one enqueues it."""

    name = models.CharField(max_length=255, unique=True)
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} (last enqueued {self.last_enqueued_at})"


class WorkerHeartbeat(models.Model):
    """The worker's last sign of life: one row (pk 1), written by the heartbeat task."""

    beat_at = models.DateTimeField()
    worker_id = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"heartbeat at {self.beat_at}"


class MirrorAgent(models.Model):
    """An agent of the account as the last sync saw it (the dropdowns and the agent filter read these)."""

    project = _project_field()
    staffify_id = models.BigIntegerField()  # unique in its project (Meta)
    name = models.CharField(max_length=200, blank=True)
    public_id = models.CharField(max_length=64, blank=True)
    last_seen_at = models.DateTimeField()

    objects = ProjectScoped()
    everywhere = AllProjects()

    class Meta:
        ordering = ["name", "staffify_id"]
        constraints = [models.UniqueConstraint(fields=["project", "staffify_id"], name="mirror_agent_per_project")]

    def __str__(self) -> str:
        return self.name or f"Agent #{self.staffify_id}"


class SyncRun(models.Model):
    """One walk of the account by the worker: its progress while it runs, and how it ended."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        OK = "ok", "Done"
        FAILED = "failed", "Failed"

    project = _project_field()
    started_at = models.DateTimeField(default=timezone.now)
    heartbeat_at = models.DateTimeField(default=timezone.now)  # a running sync touches it every page
    finished_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RUNNING)
    # True while running, else null: the unique constraint lets one sync of a project run at a time.
    running = models.BooleanField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    calls = models.PositiveIntegerField(default=0)
    numbers_seen = models.PositiveIntegerField(default=0)
    expected = models.PositiveIntegerField(null=True, blank=True)  # the previous sync's count, for progress
    created = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    gone = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ProjectScoped()
    everywhere = AllProjects()

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["project", "running"], name="one_running_sync_per_project")]

    def __str__(self) -> str:
        return f"sync {self.pk} {self.state} ({self.numbers_seen} numbers)"


class AddressBookEntry(models.Model):
    """One Staffify address the dashboard knows: created here, or added by id (after Staffify's
    check-status confirmed it is ours). Staffify documents no address listing, so this book is how the
    buy dialog finds the addresses it may offer. The status is Staffify's, as of `status_checked_at`."""

    class How(models.TextChoices):
        CREATED = "created", "Created here"
        BY_ID = "by_id", "Added by id"

    staffify_id = models.BigIntegerField(unique=True)
    country_code = models.CharField(max_length=2, db_index=True)
    city = models.CharField(max_length=100, blank=True)
    city_code = models.CharField(max_length=5, blank=True)
    street_address = models.CharField(max_length=200, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    company_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=32, default="pending")
    status_checked_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    documents = models.JSONField(default=list, blank=True)  # the document types uploaded from here
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_how = models.CharField(max_length=16, choices=How.choices)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["country_code", "staffify_id"]
        permissions = [("manage_addresses", "Can create, submit and add Staffify addresses")]

    def __str__(self) -> str:
        return f"address {self.staffify_id} ({self.country_code} {self.city})"

    @property
    def submitted(self) -> bool:
        return self.submitted_at is not None or self.status != "pending"

    @property
    def document_labels(self) -> list[str]:
        return [ADDRESS_DOCUMENT_TYPES.get(kind, kind) for kind in self.documents]

    @property
    def status_text(self) -> str:
        """The status in words: "pending" means two things (not submitted yet, or under review)."""
        if self.status == "pending":
            return "pending review" if self.submitted_at else "pending, not submitted yet"
        text = self.status.replace("_", " ")
        return f"{text} ({self.reason})" if self.reason else text


class ScheduledRelease(models.Model):
    """ "Release before the next charge": a release the worker makes shortly before the charge that
    would start another paid cycle (numbers_app.scheduled.releases). Instants are on Staffify's clock.
    One number has at most one waiting (scheduled or running) release. A failed or missed one is shown
    on every page to those who can release until someone dismisses it or it is resolved."""

    class State(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        RUNNING = "running", "Releasing now"
        DONE = "done", "Released"
        FAILED = "failed", "Failed"
        MISSED = "missed", "Missed: the charge came first"
        UNKNOWN = "unknown", "Outcome unknown"
        CANCELLED = "cancelled", "Cancelled"

    WAITING = (State.SCHEDULED, State.RUNNING)
    ALERTS = (State.FAILED, State.MISSED, State.UNKNOWN)

    project = _project_field()
    staffify_id = models.BigIntegerField(db_index=True)
    phone_number = models.CharField(max_length=32)
    charge_at = models.DateTimeField()  # the charge to beat: purchase + k × 28 days
    run_at = models.DateTimeField(db_index=True)  # charge_at minus SCHEDULED_RELEASE_LEAD_SECONDS
    unassign_first = models.BooleanField(default=False)
    state = models.CharField(max_length=16, choices=State.choices, default=State.SCHEDULED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)  # when a process began making it
    finished_at = models.DateTimeField(null=True, blank=True)  # ran, failed, missed or was cancelled
    finished_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.TextField(blank=True)
    request_id = models.CharField(max_length=100, blank=True)
    audit_entry = models.ForeignKey(
        AuditEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )  # the release's write-ahead entry, which settles an unknown outcome
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ProjectScoped()
    everywhere = AllProjects()

    class Meta:
        ordering = ["run_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "staffify_id"],
                condition=models.Q(state__in=["scheduled", "running"]),
                name="one_waiting_release_per_number",
            )
        ]

    def __str__(self) -> str:
        return f"release {self.phone_number} before {self.charge_at:%Y-%m-%d %H:%M} ({self.state})"


class BulkJob(models.Model):
    """One bulk change (numbers_app.bulk.jobs): an action over many numbers, run by the worker row by row.
    Its rows are created with it; the counts are the rows' states (BulkJob.counts)."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        CANCELLING = "cancelling", "Cancelling"
        CANCELLED = "cancelled", "Cancelled"
        DONE = "done", "Finished"

    project = _project_field()
    action = models.CharField(max_length=32)  # a key of numbers_app.bulk.jobs.ACTIONS, or "file"
    params = models.JSONField(default=dict, blank=True)
    description = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # the runner touches it every row
    finished_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED, db_index=True)
    total = models.PositiveIntegerField(default=0)
    calls = models.PositiveIntegerField(default=0)  # Staffify calls the rows made
    notice_seen = models.BooleanField(default=False)
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries")

    objects = ProjectScoped()
    everywhere = AllProjects()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"bulk job {self.pk} {self.action} ({self.state})"

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.CANCELLED)

    @property
    def done_word(self) -> str:
        """What a done row of this job is: a scheduled release is not released yet."""
        return {"schedule_release": "scheduled", "cancel_scheduled_release": "cancelled"}.get(self.action, "done")


class BulkJobRow(models.Model):
    """One number's change in a bulk job. `sent` is written and committed before Staffify is called,
    so a row found `sent` after a crash is settled by reading the number back, never resent blindly."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        DONE = "done", "Done"
        SKIPPED = "skipped", "Skipped"
        CANNOT = "cannot", "Cannot be done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="rows")
    position = models.PositiveIntegerField()
    number_id = models.BigIntegerField()
    phone_number = models.CharField(max_length=32, blank=True)  # E.164, for the results CSV
    display = models.CharField(max_length=40)
    action = models.CharField(max_length=32)  # the registry's key for this row (a file job mixes them)
    params = models.JSONField(default=dict, blank=True)
    line = models.PositiveIntegerField(null=True, blank=True)  # the CSV line it came from
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    reason = models.TextField(blank=True)
    request_id = models.CharField(max_length=100, blank=True)
    calls = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "position"]
        indexes = [models.Index(fields=["job", "state", "position"], name="bulk_row_state")]
        constraints = [models.UniqueConstraint(fields=["job", "position"], name="bulk_row_position")]

    def __str__(self) -> str:
        return f"{self.display} {self.action} {self.state}"


class Person(models.Model):
    """What the dashboard knows of how a user signs in: the identity provider's subject once they
    have signed in with it (numbers_app.people.sso), and their last sign-in and how. Its Meta carries
    the permission to manage people (the people page)."""

    class Method(models.TextChoices):
        SSO = "sso", "Single sign-on"
        LOCAL = "local", "Password"
        LOCAL_2FA = "local_2fa", "Password and second factor"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="person")
    sso_subject = models.CharField(max_length=255, blank=True)
    last_sign_in_at = models.DateTimeField(null=True, blank=True)
    last_sign_in_method = models.CharField(max_length=16, choices=Method.choices, blank=True)

    class Meta:
        permissions = [("manage_people", "Can invite people, set their role and deactivate them")]
        constraints = [
            models.UniqueConstraint(fields=["sso_subject"], condition=~Q(sso_subject=""), name="person_sso_subject")
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.last_sign_in_method or 'never signed in'}"


class SignedInSession(models.Model):
    """One session a user signed in with, so that deactivating them ends every one at once, whatever
    the session engine (numbers_app.people.directory.end_sessions)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user} since {self.created_at:%Y-%m-%d %H:%M}"


class Invitation(models.Model):
    """A link that lets one person make their account with a role, until it expires. Only a hash of
    its token is kept: the link itself is shown (or mailed) once."""

    token_hash = models.CharField(max_length=64, unique=True)
    email = models.EmailField()
    role = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invitation of {self.email} as {self.role}"

    @property
    def open(self) -> bool:
        return not self.accepted_at and not self.revoked_at and self.expires_at > timezone.now()


class AccessPolicy(models.Model):
    """The one row of sign-in rules that people managers set on the people page (pk 1)."""

    require_two_factor = models.BooleanField(default=False)
    changed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return "second factor required" if self.require_two_factor else "second factor optional"


class AlertSettings(models.Model):
    """The one row (pk 1) of alert thresholds that Operations set (numbers_app.alerts). `since` is when
    alerts began: events older than it (an address verified last month) are not news. Its Meta carries
    the permission to manage thresholds and webhooks."""

    runway_days = models.PositiveSmallIntegerField(default=7)
    sync_failing_minutes = models.PositiveIntegerField(default=30)
    heartbeat_stale_minutes = models.PositiveIntegerField(default=10)
    since = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(null=True, blank=True)
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    last_evaluation_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        permissions = [("manage_alerts", "Can set alert thresholds and manage webhooks")]

    def __str__(self) -> str:
        return f"runway {self.runway_days} days, sync {self.sync_failing_minutes} min"


class BalanceSeen(models.Model):
    """The last balance the dashboard read from Staffify (any process, any page), kept so the worker's
    runway alert reads it without a call of its own (numbers_app.alerts). One row per project later."""

    balance = models.DecimalField(max_digits=12, decimal_places=2)
    read_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"EUR {self.balance} at {self.read_at:%Y-%m-%d %H:%M}"


class Alert(models.Model):
    """Something that will cost money or numbers unless someone acts, raised by the worker's rules
    (numbers_app.alerts.conditions). One open alert per condition `key` until the condition clears, then
    `resolved` (one message); an `info` alert is an event with nothing to clear."""

    class Kind(models.TextChoices):
        RUNWAY = "runway", "Balance runs out soon"
        CREDIT = "credit", "Purchase refused for lack of credit"
        BULK = "bulk", "Bulk job finished with failed rows"
        RELEASE = "release", "Scheduled release failed or missed"
        RELEASE_DUE = "release_due", "Scheduled release due within 24 hours"
        RECLAIM = "reclaim", "Reclaim window closing"
        ADDRESS = "address", "Address verified or rejected"
        SYNC = "sync", "Sync with Staffify failing"
        WORKER = "worker", "Worker heartbeat stale"
        TEST = "test", "Test"

    class Severity(models.TextChoices):
        INFO = "info", "Info"
        WARNING = "warning", "Warning"
        CRITICAL = "critical", "Critical"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"
        INFO = "info", "Event"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    key = models.CharField(max_length=200)  # the condition: one open alert per key
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.WARNING)
    title = models.CharField(max_length=200)
    sentence = models.TextField()  # what happened, what it costs, what to do
    link = models.CharField(max_length=500, blank=True)  # the page that fixes it (a path on this site)
    link_label = models.CharField(max_length=100, blank=True)
    resolution = models.TextField(blank=True)  # the "resolved" message
    data = models.JSONField(default=dict, blank=True)
    owner = models.ForeignKey(  # whose it is (the person who started a bulk job), when anyone's
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The project whose rows it is about (its key starts with the project's slug); none: the
    # organisation's (the balance, the address book, the worker). Only who may see it hears of it.
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    raised_at = models.DateTimeField(default=timezone.now, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(fields=["state", "kind"], name="alert_state_kind"),
            models.Index(fields=["key"], name="alert_key"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["key"], condition=Q(state="open"), name="one_open_alert_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} ({self.state})"


class InboxItem(models.Model):
    """An alert in one person's in-app inbox, and whether they read it. A resolved alert makes its item
    unread again (its one "resolved" message)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="inbox_items")
    updated_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "alert"], name="inbox_item_once")]
        indexes = [models.Index(fields=["user", "read_at"], name="inbox_unread")]

    def __str__(self) -> str:
        return f"{self.user} {self.alert_id} {'read' if self.read_at else 'unread'}"


class WebhookEndpoint(models.Model):
    """Where alerts are POSTed: a generic JSON body signed with the endpoint's secret, or a Slack
    incoming webhook's body (numbers_app.alerts.channels). Managed by Operations."""

    class Format(models.TextChoices):
        GENERIC = "generic", "Generic JSON (signed)"
        SLACK = "slack", "Slack incoming webhook"

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    format = models.CharField(max_length=16, choices=Format.choices, default=Format.GENERIC)
    secret = models.CharField(max_length=100)
    active = models.BooleanField(default=True)
    kinds = models.JSONField(default=list, blank=True)  # alert kinds sent; empty: every kind
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.format})"


class Subscription(models.Model):
    """What one person receives of one kind of alert, where they chose (without a row: their role's
    default, numbers_app.alerts.subscriptions). `mine_only`: only alerts they own (jobs they started)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16)  # an Alert.Kind, or "digest"
    inbox = models.BooleanField(default=True)
    email = models.BooleanField(default=False)
    mine_only = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="subscription_once")]

    def __str__(self) -> str:
        return f"{self.user} {self.kind}"


class Delivery(models.Model):
    """One message of an alert to one e-mail address or webhook, sent by the worker with retries and
    backoff (numbers_app.alerts.delivery): the alert's delivery log."""

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        WEBHOOK = "webhook", "Webhook"

    class Event(models.TextChoices):
        RAISED = "raised", "Raised"
        RESOLVED = "resolved", "Resolved"
        TEST = "test", "Test"
        DIGEST = "digest", "Daily digest"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Gave up"
        SKIPPED = "skipped", "Not sent"

    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    event = models.CharField(max_length=16, choices=Event.choices)
    key = models.CharField(max_length=200, blank=True)  # the alert's condition (the daily e-mail limit)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    recipient = models.CharField(max_length=500)  # the address or the URL, as sent
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)  # an e-mail's text (the webhook's body is made when sent)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_try_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["status", "next_try_at"], name="delivery_due"),
            models.Index(fields=["user", "key", "created_at"], name="delivery_mail_limit"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.event} to {self.recipient}: {self.status}"
