"""The deterministic demo data. Dates are relative to the sandbox clock at seeding time.

proj_demo (org_demo): balance EUR 42.50, agents 101-110, addresses 4 (US, verified),
7 (NL Amsterdam 020, verified), 8 (DE Berlin 030, partially verified), 9 (FR Paris 01, pending),
10 (GB London 020, rejected), numbers 1001-1060 (US, NL, DE), three of them pending release.
proj_eu (org_demo, "Europe"): agents 201-203, numbers 951-956 (US Chicago 312); it shares org_demo's
balance, rate limit and addresses (held by proj_demo, the organisation's first project). The org key
ORG_KEY reaches both with X-Project-Id; EU_KEY is proj_eu's own project key.
proj_other (org_other): agent 900, address 12, number 900; the demo keys get 404 for them.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.management.color import no_style
from django.db import IntegrityError, connection, transaction

from . import billing, inventory
from .auth import hash_key
from .models import (
    Address,
    AddressDocument,
    Agent,
    ApiKey,
    AuthFailure,
    Charge,
    Fault,
    PhoneNumber,
    Project,
    RateWindow,
)

DEMO_PROJECT, EU_PROJECT, OTHER_PROJECT = "proj_demo", "proj_eu", "proj_other"
DEMO_ORG, OTHER_ORG = "org_demo", "org_other"

# The keys are named in the settings, which refuse every one of them outside the sandbox.
DEMO_KEY, READ_KEY, ORG_KEY, OTHER_KEY, REVOKED_KEY, EU_KEY = settings.SANDBOX_SEEDED_API_KEYS
GROWABLE = ("proj_demo", "proj_eu")  # the projects `seed_sandbox --numbers N --project …` grows
EU_AGENT_IDS = (201, 202, 203)
EU_NUMBER_IDS = range(951, 957)

DEMO_BALANCE = Decimal("42.50")
AGENT_IDS = range(101, 111)
NUMBER_IDS = range(1001, 1061)
# Released this many days before the seed: early, middle and late in their 7-day window.
RELEASED_DAYS_AGO = {1006: 6.5, 1021: 4, 1036: 1}
PENDING_IDS = tuple(RELEASED_DAYS_AGO)
OTHER_AGENT_ID = OTHER_NUMBER_ID = 900
OTHER_ADDRESS_ID = 12
US_ADDRESS_ID, NL_ADDRESS_ID, DE_ADDRESS_ID, FR_ADDRESS_ID, GB_ADDRESS_ID = 4, 7, 8, 9, 10

_AGENTS = [
    ("Support Bot", "en-US", "alloy"),
    ("Sales Assistant", "en-US", "nova"),
    ("Billing Helper", "en-GB", "shimmer"),
    ("After-hours Line", "en-US", "echo"),
    ("Amsterdam Reception", "nl-NL", "fable"),
    ("Berlin Reception", "de-DE", "onyx"),
    ("Appointment Scheduler", "en-US", "nova"),
    ("Order Status", "nl-NL", "alloy"),
    ("Onboarding Guide", "de-DE", "shimmer"),
    ("Survey Caller", "en-US", "echo"),
]

# (country, type, code or prefix, how many, agents to rotate through, tag sets to rotate through)
_NUMBER_PLAN = [
    ("US", "local", "415", 10, [101, 102, 104, 107], [["support"], ["sales"], ["after-hours", "support"]]),
    ("US", "local", "212", 8, [102, 103, 110], [["sales"], ["billing"], ["sales", "outbound"]]),
    ("US", "toll_free", "800", 6, [101, 103], [["support", "toll-free"], ["billing", "toll-free"]]),
    (
        "NL",
        "local",
        "020",
        14,
        [105, 108, 101],
        [["support", "amsterdam"], ["sales", "amsterdam"], ["amsterdam"]],
    ),
    ("NL", "mobile", "6", 6, [105, 108], [["sms", "amsterdam"], ["support"]]),
    ("DE", "local", "030", 12, [106, 109, 102], [["support", "berlin"], ["sales", "berlin"], ["berlin"]]),
    ("DE", "mobile", "151", 4, [106], [["berlin", "after-hours"]]),
]


def public_id(project_id: str, agent_id: int) -> str:
    return "agent_" + hashlib.sha256(f"{project_id}:{agent_id}".encode()).hexdigest()[:8]


def _order(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _block(country: str, number_type: str, code: str) -> inventory.Block:
    return next(
        b
        for b in inventory.BLOCKS
        if b.country == country and b.number_type == number_type and code in (b.code, b.prefix)
    )


def block_numbers_after_pins(block: inventory.Block) -> tuple[str, ...]:
    # The docs' example numbers stay for sale, so their curl lines work against the sandbox.
    return inventory.block_numbers(block)[len(block.pinned) :]


def billing_state(purchased_at: datetime, until: datetime) -> tuple[int, list[datetime]]:
    """Cycles paid up to `until` and the instants they were charged at (purchase first)."""
    cycles = 1 + (until - purchased_at) // billing.CYCLE
    return cycles, [purchased_at + k * billing.CYCLE for k in range(cycles)]


def billed_number(
    project: Project,
    number_id: int,
    candidate: inventory.Candidate,
    purchased_at: datetime,
    now: datetime,
    **fields,
) -> tuple[PhoneNumber, list[Charge]]:
    released_at = fields.get("released_at")
    cycles, charged_at = billing_state(purchased_at, released_at or now)
    number = PhoneNumber(
        id=number_id,
        project=project,
        phone_number=candidate.phone_number,
        country_code=candidate.country_code,
        number_type=candidate.number_type,
        locality=candidate.locality,
        code=candidate.code,
        purchased_at=purchased_at,
        cycles_billed=cycles,
        paid_until=purchased_at + cycles * billing.CYCLE,
        **fields,
    )
    charges = [
        Charge(
            project=project,
            number=number,
            phone_number=number.phone_number,
            amount=billing.PRICE,
            reason=Charge.PURCHASE if k == 0 else Charge.RENEWAL,
            at=at,
        )
        for k, at in enumerate(charged_at)
    ]
    return number, charges


def _address(project: Project, address_id: int, country: str, city: str, city_code: str, postal_code: str,
             street: str, status: str, *, created_at: datetime) -> Address:  # fmt: skip
    """A seeded address went through the workflow: documents, submission, and (unless pending) a decision.

    A pending one waits for a decision without a scheduled time: only the control endpoints settle it.
    """
    submitted_at = created_at + timedelta(hours=1)
    decided = status != Address.PENDING
    address = Address.objects.create(
        id=address_id,
        project=project,
        country_code=country,
        city=city,
        city_code=city_code,
        postal_code=postal_code,
        street_address=street,
        company_name="Demo B.V." if project.id == DEMO_PROJECT else "Other B.V.",
        contact_name="Dana Demo" if project.id == DEMO_PROJECT else "Oscar Other",
        contact_email="ops@demo.example" if project.id == DEMO_PROJECT else "ops@other.example",
        contact_phone="+31201234567",
        status=status,
        reason="The business registration does not show this address." if status == Address.REJECTED else "",
        created_at=created_at,
        submitted_at=submitted_at,
        updated_at=submitted_at + timedelta(days=2) if decided else submitted_at,
    )
    local_presence = inventory.COUNTRIES[country].local_presence
    for document_type in AddressDocument.TYPES[: 2 if local_presence else 1]:
        AddressDocument.objects.create(
            address=address,
            document_type=document_type,
            filename=f"{document_type}.pdf",
            content_type="application/pdf",
            size=182_044,
            sha256=hashlib.sha256(f"{address_id}:{document_type}".encode()).hexdigest(),
            uploaded_at=created_at + timedelta(minutes=20),
        )
    return address


def _seed_demo(now: datetime) -> None:
    project = Project.objects.create(
        id=DEMO_PROJECT, org_id=DEMO_ORG, name="Demo project", balance=DEMO_BALANCE, balance_updated_at=now
    )
    for key, label, kind, scope, revoked in [
        (DEMO_KEY, "demo", ApiKey.LIVE, ApiKey.WRITE, False),
        (READ_KEY, "demo read-only", ApiKey.LIVE, ApiKey.READ, False),
        (ORG_KEY, "demo organisation", ApiKey.ORG, ApiKey.WRITE, False),
        (REVOKED_KEY, "demo revoked", ApiKey.LIVE, ApiKey.WRITE, True),
    ]:
        ApiKey.objects.create(
            key_hash=hash_key(key),
            prefix=key[:13],
            label=label,
            kind=kind,
            scope=scope,
            revoked=revoked,
            org_id=DEMO_ORG,
            project=None if kind == ApiKey.ORG else project,
        )
    agents = {
        agent_id: Agent.objects.create(
            id=agent_id,
            project=project,
            public_id=public_id(DEMO_PROJECT, agent_id),
            name=name,
            language=language,
            voice=voice,
            created_at=now - timedelta(days=140 - 3 * n),
        )
        for n, (agent_id, (name, language, voice)) in enumerate(zip(AGENT_IDS, _AGENTS, strict=True))
    }
    address_rows = [
        (US_ADDRESS_ID, "US", "San Francisco", "", "94105", "101 Market Street", Address.VERIFIED),
        (NL_ADDRESS_ID, "NL", "Amsterdam", "020", "1017 CE", "Herengracht 500", Address.VERIFIED),
        (DE_ADDRESS_ID, "DE", "Berlin", "030", "10117", "Friedrichstraße 68", Address.PARTIALLY_VERIFIED),
        (FR_ADDRESS_ID, "FR", "Paris", "01", "75002", "12 Rue de la Paix", Address.PENDING),
        (GB_ADDRESS_ID, "GB", "London", "020", "EC2A 4NE", "1 Finsbury Avenue", Address.REJECTED),
    ]
    addresses = {
        row[1]: _address(project, *row, created_at=now - timedelta(days=120 - 5 * n))
        for n, row in enumerate(address_rows)
    }

    # Which inventory numbers, in a fixed shuffled order so that ids mix the countries.
    picks = []
    for country, number_type, code, count, agent_ids, tag_sets in _NUMBER_PLAN:
        block = _block(country, number_type, code)
        for n, e164 in enumerate(block_numbers_after_pins(block)[:count]):
            picks.append((_order(e164), block, e164, agent_ids[n % len(agent_ids)], tag_sets[n % len(tag_sets)]))
    picks.sort(key=lambda pick: pick[0])

    start = now - timedelta(days=80)
    numbers, charges = [], []
    for i, (number_id, (_, block, e164, agent_id, tags)) in enumerate(zip(NUMBER_IDS, picks, strict=True)):
        # Spread over the last 80 days, oldest id first, at varied times of day.
        purchased_at = start + timedelta(minutes=round(i * 79 * 24 * 60 / 59) + (i * 137) % 300)
        candidate = inventory.find(e164)
        assert candidate is not None and candidate.country_code == block.country
        fields: dict = {"address": addresses.get(block.country) if block.country != "US" else None}
        if number_id in PENDING_IDS:
            released_at = now - timedelta(days=RELEASED_DAYS_AGO[number_id])
            fields.update(
                status=PhoneNumber.PENDING_RELEASE,
                released_at=released_at,
                reclaim_before=released_at + billing.RECLAIM_WINDOW,
                tags=[],
            )
        else:
            unassigned = i % 6 == 4
            fields.update(
                agent=None if unassigned else agents[agent_id],
                tags=[] if i % 7 == 3 else list(tags),
            )
        number, number_charges = billed_number(project, number_id, candidate, purchased_at, now, **fields)
        numbers.append(number)
        charges.extend(number_charges)
    PhoneNumber.objects.bulk_create(numbers)
    Charge.objects.bulk_create(charges)


def _seed_eu(now: datetime) -> None:
    """A second project of the demo organisation, with its own agents and numbers."""
    project = Project.objects.create(
        id=EU_PROJECT, org_id=DEMO_ORG, name="Europe", balance=Decimal("0.00"), balance_updated_at=now
    )
    ApiKey.objects.create(
        key_hash=hash_key(EU_KEY),
        prefix=EU_KEY[:13],
        label="europe",
        kind=ApiKey.LIVE,
        org_id=DEMO_ORG,
        project=project,
    )
    agents = [
        Agent.objects.create(
            id=agent_id,
            project=project,
            public_id=public_id(EU_PROJECT, agent_id),
            name=name,
            language=language,
            voice="alloy",
            created_at=now - timedelta(days=50),
        )
        for agent_id, (name, language) in zip(
            EU_AGENT_IDS, [("Paris Desk", "fr-FR"), ("Madrid Desk", "es-ES"), ("Vienna Desk", "de-AT")], strict=True
        )
    ]
    numbers, charges = [], []
    chicago = block_numbers_after_pins(_block("US", "local", "312"))[1 : 1 + len(EU_NUMBER_IDS)]
    for i, (number_id, e164) in enumerate(zip(EU_NUMBER_IDS, chicago, strict=True)):
        candidate = inventory.find(e164)
        assert candidate is not None
        agent = None if i == 5 else agents[i % len(agents)]
        number, number_charges = billed_number(
            project, number_id, candidate, now - timedelta(days=3 + 9 * i), now, agent=agent, tags=["europe"]
        )
        numbers.append(number)
        charges.extend(number_charges)
    PhoneNumber.objects.bulk_create(numbers)
    Charge.objects.bulk_create(charges)


def _seed_other(now: datetime) -> None:
    project = Project.objects.create(
        id=OTHER_PROJECT,
        org_id=OTHER_ORG,
        name="Another customer",
        balance=Decimal("100.00"),
        balance_updated_at=now,
    )
    ApiKey.objects.create(
        key_hash=hash_key(OTHER_KEY),
        prefix=OTHER_KEY[:13],
        label="other project",
        kind=ApiKey.LIVE,
        org_id=OTHER_ORG,
        project=project,
    )
    agent = Agent.objects.create(
        id=OTHER_AGENT_ID,
        project=project,
        public_id=public_id(OTHER_PROJECT, OTHER_AGENT_ID),
        name="Other Project Bot",
        language="en-US",
        voice="alloy",
        created_at=now - timedelta(days=30),
    )
    _address(
        project,
        OTHER_ADDRESS_ID,
        "NL",
        "Rotterdam",
        "010",
        "3011 AD",
        "Coolsingel 40",
        Address.VERIFIED,
        created_at=now - timedelta(days=60),
    )
    e164 = block_numbers_after_pins(_block("US", "local", "312"))[0]
    candidate = inventory.find(e164)
    assert candidate is not None
    number, charges = billed_number(
        project, OTHER_NUMBER_ID, candidate, now - timedelta(days=10), now, agent=agent, tags=["other"]
    )
    number.save()
    Charge.objects.bulk_create(charges)


def reset_sequences() -> None:
    """The next id of each table follows its highest row: the seed creates rows with explicit ids, so
    PostgreSQL's sequences must move past them, and after a reset the next purchase gets the same id
    every time (SQLite's AUTOINCREMENT counter outlives deleted rows: it is set back here)."""
    models = [Agent, Address, PhoneNumber, Charge, ApiKey]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for model in models:
                table = model._meta.db_table
                cursor.execute(
                    f'UPDATE sqlite_sequence SET seq = (SELECT COALESCE(MAX(id), 0) FROM "{table}") WHERE name = %s',  # noqa: S608 (a model's own table name)
                    [table],
                )
            return
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)


def seed(reset: bool = False) -> bool:
    """Seed when the sandbox is empty (or always, with reset); True if it did.

    Safe to call from racing processes: the loser of a race leaves the winner's seed alone.
    """
    if reset:
        _wipe_and_seed()
        return True
    try:
        with transaction.atomic():
            if Project.objects.exists():
                return False
            now = billing.now()
            _seed_demo(now)
            _seed_eu(now)
            _seed_other(now)
            reset_sequences()
            return True
    except IntegrityError:  # another process seeded in the meantime
        return False


def ensure_seeded() -> None:
    if not Project.objects.exists():
        seed()


def reset() -> None:
    """Back to the deterministic seed: clock, balance, numbers, faults, counters and limits."""
    seed(reset=True)


def _wipe_and_seed() -> None:
    with transaction.atomic():
        for model in (
            Fault,
            RateWindow,
            AuthFailure,
            Charge,
            PhoneNumber,
            AddressDocument,
            Address,
            Agent,
            ApiKey,
            Project,
        ):
            model.objects.all().delete()
        billing.reset_clock()
        seed()
