"""The sandbox's own tables. Everything it knows lives here, so several threads or processes agree."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import models


class Project(models.Model):
    id = models.CharField(primary_key=True, max_length=40)  # "proj_demo"
    org_id = models.CharField(max_length=40)
    name = models.CharField(max_length=100)
    balance = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    balance_updated_at = models.DateTimeField()
    tier = models.CharField(max_length=20, default="payg")
    # None means unlimited (enterprise): the Limit and Remaining headers are then left out.
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True, default=300)
    concurrent_limit = models.PositiveIntegerField(default=10)
    rate_per_minute = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("0.15"))
    is_paused = models.BooleanField(default=False)
    # Sandbox knobs (control endpoints); a reset recreates the project with these defaults.
    address_verify_delay = models.DurationField(default=timedelta(minutes=10))
    addresses_listing_enabled = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.id

    def account(self, *, lock: bool = False) -> Project:
        """The organisation's balance, tier and rate limit live on its first project (by id): Staffify
        keeps them per organisation, and every project of it sees the same ones."""
        rows = Project.objects.select_for_update() if lock else Project.objects
        found = rows.filter(org_id=self.org_id).order_by("id").first()
        assert found is not None  # this project is one of them
        return found


class ApiKey(models.Model):
    LIVE, ORG = "live", "org"
    WRITE, READ = "write", "read"

    # Only the SHA-256 of a key is kept; the prefix is enough to recognise it in the admin.
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=20)
    label = models.CharField(max_length=100, blank=True)
    kind = models.CharField(max_length=4, choices=[(LIVE, "live"), (ORG, "org")])
    scope = models.CharField(max_length=5, choices=[(WRITE, "write"), (READ, "read")], default=WRITE)
    revoked = models.BooleanField(default=False)
    org_id = models.CharField(max_length=40)
    # Set for project keys; org keys name their project per request with X-Project-Id.
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.label})"


class Agent(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="agents")
    public_id = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    language = models.CharField(max_length=10)
    voice = models.CharField(max_length=40)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["project", "id"], name="sandbox_agent_cursor")]

    def __str__(self) -> str:
        return f"{self.id} {self.name}"


class Address(models.Model):
    PENDING = "pending"
    VERIFIED = "verified"
    PARTIALLY_VERIFIED = "partially_verified"
    REJECTED = "rejected"
    EXPIRED = "expired"
    STATUSES = [PENDING, VERIFIED, PARTIALLY_VERIFIED, REJECTED, EXPIRED]
    USABLE = (VERIFIED, PARTIALLY_VERIFIED)

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="addresses")
    country_code = models.CharField(max_length=2)
    city = models.CharField(max_length=100)
    city_code = models.CharField(max_length=10, blank=True)
    postal_code = models.CharField(max_length=20)
    street_address = models.CharField(max_length=200)
    company_name = models.CharField(max_length=200, blank=True)
    contact_name = models.CharField(max_length=100, blank=True)
    contact_email = models.CharField(max_length=254, blank=True)
    contact_phone = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=20, choices=[(s, s) for s in STATUSES])
    reason = models.CharField(max_length=200, blank=True)  # why it was rejected or expired
    created_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)  # the last status change
    submitted_at = models.DateTimeField(null=True, blank=True)  # set once: submission cannot be undone
    # When a submitted, still pending address becomes verified on the sandbox clock (null: nothing scheduled).
    verify_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.id} {self.country_code} {self.city} ({self.status})"


class AddressDocument(models.Model):
    GOVERNMENT_ID, BUSINESS_REGISTRATION = "government_id", "business_registration"
    TYPES = (GOVERNMENT_ID, BUSINESS_REGISTRATION)

    # Only what the sandbox checks is kept, never the file itself.
    address = models.ForeignKey(Address, on_delete=models.CASCADE, related_name="documents")
    document_type = models.CharField(max_length=30, choices=[(t, t) for t in TYPES])
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=30)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.document_type} for address {self.address_id}"


class PhoneNumber(models.Model):
    ACTIVE = "active"
    PENDING_RELEASE = "pending_release"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="numbers")
    # Unique across all projects: a number belongs to one owner at a time, pending ones included.
    phone_number = models.CharField(max_length=20, unique=True)
    country_code = models.CharField(max_length=2)
    number_type = models.CharField(max_length=10)
    locality = models.CharField(max_length=100, blank=True)
    code = models.CharField(max_length=10, blank=True)  # area code (US/CA) or city code
    status = models.CharField(max_length=20, default=ACTIVE)
    agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.SET_NULL)
    address = models.ForeignKey(Address, null=True, blank=True, on_delete=models.SET_NULL)
    tags = models.JSONField(default=list, blank=True)
    purchased_at = models.DateTimeField()
    # The next 28-day boundary to charge; kept beside the count so settlement is one indexed query.
    paid_until = models.DateTimeField(db_index=True)
    cycles_billed = models.PositiveIntegerField(default=1)
    released_at = models.DateTimeField(null=True, blank=True)
    reclaim_before = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["id"]
        # The list walks one project's numbers by id (the cursor); this keeps a page cheap at 100k rows.
        indexes = [
            models.Index(fields=["project", "id"], name="sandbox_number_cursor"),
            # Settlement at the start of every call looks for active numbers due for renewal.
            models.Index(fields=["status", "paid_until"], name="sandbox_number_renewal"),
            # ... and for pending numbers whose reclaim window has closed.
            models.Index(fields=["status", "reclaim_before"], name="sandbox_number_expiry"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.phone_number} ({self.status})"


class Charge(models.Model):
    PURCHASE, RENEWAL = "purchase", "renewal"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="charges")
    # The number may be gone (released for good); the E.164 string stays in the ledger.
    number = models.ForeignKey(PhoneNumber, null=True, blank=True, on_delete=models.SET_NULL)
    phone_number = models.CharField(max_length=20)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    reason = models.CharField(max_length=10, choices=[(PURCHASE, "purchase"), (RENEWAL, "renewal")])
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d} {self.reason} {self.phone_number} EUR {self.amount}"


class Clock(models.Model):
    """One row: the sandbox's time is the real UTC time plus this offset."""

    offset = models.DurationField(default=timedelta(0))

    def __str__(self) -> str:
        return f"clock offset {self.offset}"


class RateWindow(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE)
    minute = models.BigIntegerField()  # sandbox epoch seconds // 60
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "minute"], name="sandbox_rate_window_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} minute {self.minute}: {self.count}"


class AuthFailure(models.Model):
    ip = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.ip} at {self.at}"


class Fault(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="faults")
    status = models.PositiveSmallIntegerField(null=True, blank=True)  # None: only a delay
    remaining = models.PositiveIntegerField(default=1)
    path_prefix = models.CharField(max_length=200, blank=True)
    method = models.CharField(max_length=10, blank=True)
    delay_ms = models.PositiveIntegerField(default=0)
    retry_after = models.PositiveIntegerField(default=1)
    code = models.CharField(max_length=50, blank=True)
    message = models.CharField(max_length=200, blank=True)
    # False: delay, then answer `status` without acting (or act, when status is None).
    # True: act first, then delay, then answer `status` instead of the real answer: a write that
    # happened although its answer was slow or an error.
    act_first = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"fault {self.status} x{self.remaining} on {self.method or '*'} {self.path_prefix or '/'}"
