"""Staffify's address verification workflow, and the dashboard's own address book.

Staffify documents creating an address, uploading its documents, submitting it and checking its
status, but no way to list an organisation's addresses. So every address the dashboard creates, and
every existing id an operator adds by hand, goes into the book (AddressBookEntry); the buy flow offers
the book's usable addresses, with `GET /addresses` as an extra source where Staffify answers it.

Views hand this module clean form data and render what it returns. Every action is audited: an
attempt that reached Staffify is recorded with Staffify's answer; nothing is recorded as done unless
Staffify confirmed it. Nothing here sleeps.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError
from django.db.models import Q
from django.utils import timezone

from numbers_app import staffify
from numbers_app.audit import log as audit
from numbers_app.models import AddressBookEntry
from numbers_app.rules import ADDRESS_DOCUMENT_TYPES, FINAL_ADDRESS_STATUSES, USABLE_ADDRESS_STATUSES
from numbers_app.staffify import budget, lookups
from numbers_app.text.explain import Problem, explain, trouble

logger = logging.getLogger(__name__)

Entry = AddressBookEntry


@dataclass
class Result:
    ok: bool
    message: str = ""
    problem: Problem | None = None
    entry: AddressBookEntry | None = None


def _facts(entry: AddressBookEntry) -> dict[str, Any]:
    return {
        "address_id": entry.staffify_id,
        "country_code": entry.country_code,
        "city": entry.city,
        "city_code": entry.city_code,
        "status": entry.status,
    }


def as_address(entry: AddressBookEntry) -> staffify.Address:
    """A book entry in the shape the buy flow offers (the listing's shape)."""
    return staffify.Address(
        id=entry.staffify_id,
        country_code=entry.country_code,
        city=entry.city or None,
        city_code=entry.city_code or None,
        postal_code=entry.postal_code or None,
        street_address=entry.street_address or None,
        company_name=entry.company_name or None,
        status=entry.status,
    )


def known_addresses(client: staffify.StaffifyClient) -> list[staffify.Address]:
    """The book, merged by id with Staffify's listing where it has one (the listing is Staffify's
    current word on a status; the book fills in what the listing leaves out)."""
    merged = {entry.staffify_id: as_address(entry) for entry in AddressBookEntry.objects.all()}
    try:
        listed = lookups.listed_addresses(client)
    except staffify.StaffifyError as err:
        # An extra source only: the book still answers, and a page must not fail for want of it.
        logger.info("The address listing could not be read (%s); using the address book alone.", err)
        listed = []
    for address in listed:
        mine = merged.get(address.id)
        if mine is None:
            merged[address.id] = address
            continue
        merged[address.id] = staffify.Address(
            id=address.id,
            country_code=address.country_code,
            city=address.city or mine.city,
            city_code=address.city_code or mine.city_code,
            postal_code=address.postal_code or mine.postal_code,
            street_address=address.street_address or mine.street_address,
            company_name=address.company_name or mine.company_name,
            status=address.status,
        )
    return list(merged.values())


def usable(client: staffify.StaffifyClient, country: str) -> list[staffify.Address]:
    """The addresses Staffify accepts for a purchase in COUNTRY."""
    return [a for a in known_addresses(client) if a.country_code == country and a.status in USABLE_ADDRESS_STATUSES]


def find(client: staffify.StaffifyClient, address_id: int) -> staffify.Address | None:
    return next((a for a in known_addresses(client) if a.id == address_id), None)


def outside_the_book(client: staffify.StaffifyClient) -> list[staffify.Address]:
    """Addresses Staffify's listing (where it has one) knows and the book does not: the buy dialog
    offers them too, so the Addresses page shows them, marked "not in your book"."""
    try:
        listed = lookups.listed_addresses(client)
    except staffify.StaffifyError as err:
        logger.info("The address listing could not be read (%s); showing the address book alone.", err)
        return []
    mine = set(AddressBookEntry.objects.values_list("staffify_id", flat=True))
    return sorted((a for a in listed if a.id not in mine), key=lambda a: (a.country_code, a.id))


# The workflow's steps, in order, as the Addresses page shows them.
STEPS = (
    ("create", "Create"),
    ("documents", "Upload documents"),
    ("submit", "Submit for review"),
    ("review", "Carrier's review"),
    ("use", "Use it"),
)


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    state: str  # "done", "current", "failed" (a rejected or expired review) or "todo"


@dataclass(frozen=True)
class Progress:
    current: str
    steps: tuple[Step, ...]
    missing: tuple[str, ...]  # the required document types not uploaded from here yet
    documents_known: bool  # False for an address added by id: its documents may have been uploaded elsewhere

    @property
    def missing_labels(self) -> list[str]:
        return [ADDRESS_DOCUMENT_TYPES.get(kind, kind) for kind in self.missing]

    @property
    def can_submit(self) -> bool:
        return self.current in {"documents", "submit"} and not self.missing


def progress(entry: AddressBookEntry, required: list[str] | tuple[str, ...]) -> Progress:
    """Where ENTRY stands in the workflow, given its country's REQUIRED document types."""
    documents_known = entry.added_how == AddressBookEntry.How.CREATED
    missing: tuple[str, ...] = ()
    failed = False
    if not entry.submitted:
        missing = tuple(kind for kind in required if kind not in entry.documents) if documents_known else ()
        current = "documents" if missing else "submit"
    elif entry.status in USABLE_ADDRESS_STATUSES:
        current = "use"
    elif entry.status in FINAL_ADDRESS_STATUSES:  # rejected or expired: the review said no
        current, failed = "review", True
    else:
        current = "review"
    at = [key for key, _ in STEPS].index(current)

    def state(i: int) -> str:
        if i < at:
            return "done"
        if i == at:
            return "failed" if failed else "current"
        return "todo"

    steps = tuple(Step(key, label, state(i)) for i, (key, label) in enumerate(STEPS))
    return Progress(current, steps, missing, documents_known)


def _apply_status(entry: AddressBookEntry, status: staffify.AddressStatus) -> None:
    entry.status = status.status
    entry.reason = status.reason or ""
    if status.submitted_at is not None:
        entry.submitted_at = status.submitted_at
    entry.status_checked_at = timezone.now()


# ---------------------------------------------------------------------------------------------
# The workflow


def create(client: staffify.StaffifyClient, user: Any, data: dict[str, Any]) -> Result:
    """POST /addresses with DATA (a clean AddressForm); the new address goes into the book."""
    asked = {key: data.get(key) or "" for key in ("country_code", "city", "city_code", "postal_code")}
    try:
        created = client.create_address(**data)
    except staffify.StaffifyError as err:
        problem = explain(err, what="the new address")
        audit.record(
            user,
            audit.Action.ADDRESS_CREATE,
            outcome=audit.outcome_of(err),
            after=asked,
            err=err,
            message=problem.message,
        )
        return Result(False, problem=problem)
    entry = AddressBookEntry.objects.create(
        staffify_id=created.address_id,
        country_code=data["country_code"],
        city=data["city"],
        city_code=data.get("city_code") or "",
        street_address=data["street_address"],
        postal_code=data["postal_code"],
        company_name=data.get("company_name") or "",
        status=created.status or "pending",
        status_checked_at=timezone.now(),
        added_by=user,
        added_how=AddressBookEntry.How.CREATED,
    )
    lookups.forget_listed_addresses()
    message = f"Address {entry.staffify_id} created in {entry.city}. Upload its documents, then submit it."
    audit.record(user, audit.Action.ADDRESS_CREATE, outcome=audit.Outcome.OK, after=_facts(entry), message=message)
    return Result(True, message, entry=entry)


def add_by_id(client: staffify.StaffifyClient, user: Any, data: dict[str, Any]) -> Result:
    """Put an existing Staffify address into the book, once check-status shows it is this account's."""
    address_id = data["address_id"]
    asked = {"address_id": address_id, "country_code": data["country_code"]}
    if AddressBookEntry.objects.filter(staffify_id=address_id).exists():
        message = f"Address {address_id} is already in the address book."
        audit.record(user, audit.Action.ADDRESS_ADD, outcome=audit.Outcome.INVALID, after=asked, message=message)
        return Result(False, problem=Problem(message, level="warning"))
    try:
        status = client.check_address_status(address_id)
    except staffify.StaffifyError as err:
        if isinstance(err, staffify.NotFoundError):
            problem = Problem(
                f"Staffify does not know address {address_id} in this account (HTTP 404): check the id; "
                "an address of another project cannot be used here.",
                err.request_id,
            )
        else:
            problem = explain(err, what=f"address {address_id}")
        audit.record(
            user, audit.Action.ADDRESS_ADD, outcome=audit.Outcome.ERROR, after=asked, err=err, message=problem.message
        )
        return Result(False, problem=problem)
    # The listing (where Staffify has one) may say more than the form asked for.
    try:
        listed = next((a for a in lookups.listed_addresses(client) if a.id == address_id), None)
    except staffify.StaffifyError:
        listed = None
    entry = AddressBookEntry(
        staffify_id=address_id,
        country_code=data["country_code"],
        city=data.get("city") or (listed.city if listed else "") or "",
        city_code=data.get("city_code") or (listed.city_code if listed else "") or "",
        street_address=(listed.street_address if listed else "") or "",
        postal_code=(listed.postal_code if listed else "") or "",
        company_name=(listed.company_name if listed else "") or "",
        added_by=user,
        added_how=AddressBookEntry.How.BY_ID,
    )
    _apply_status(entry, status)
    try:
        entry.save()
    except IntegrityError:  # added by someone else meanwhile
        return Result(False, problem=Problem(f"Address {address_id} is already in the address book.", level="warning"))
    message = f"Address {address_id} added to the address book: {entry.status_text}."
    audit.record(user, audit.Action.ADDRESS_ADD, outcome=audit.Outcome.OK, after=_facts(entry), message=message)
    return Result(True, message, entry=entry)


def upload(
    client: staffify.StaffifyClient,
    user: Any,
    entry: AddressBookEntry,
    *,
    document_type: str,
    filename: str,
    content: bytes,
    content_type: str,
) -> Result:
    """Send one document (already checked by DocumentForm against the country's limits)."""
    asked = {**_facts(entry), "document_type": document_type, "filename": filename[:100], "size": len(content)}
    try:
        client.upload_address_document(
            entry.staffify_id,
            document_type=document_type,
            filename=filename,
            content=content,
            content_type=content_type,
        )
    except staffify.StaffifyError as err:
        problem = explain(err, what=f"address {entry.staffify_id}")
        audit.record(
            user,
            audit.Action.ADDRESS_DOCUMENT,
            outcome=audit.outcome_of(err),
            after=asked,
            err=err,
            message=problem.message,
        )
        return Result(False, problem=problem, entry=entry)
    if document_type not in entry.documents:
        entry.documents = [*entry.documents, document_type]
        entry.save(update_fields=["documents"])
    label = ADDRESS_DOCUMENT_TYPES.get(document_type, document_type)
    message = f"{label} uploaded for address {entry.staffify_id}."
    audit.record(user, audit.Action.ADDRESS_DOCUMENT, outcome=audit.Outcome.OK, after=asked, message=message)
    return Result(True, message, entry=entry)


def submit(client: staffify.StaffifyClient, user: Any, entry: AddressBookEntry) -> Result:
    """Send the address to the carrier for review. Cannot be undone, hence the confirm dialog."""
    before = _facts(entry)
    try:
        status = client.submit_address(entry.staffify_id)
    except staffify.StaffifyError as err:
        settled = _read_back_submit(client, user, entry, err)
        if settled is not None:
            return settled
        problem = explain(err, what=f"address {entry.staffify_id}")
        if isinstance(err, staffify.ConflictError) and err.code == "DOCUMENTS_REQUIRED":
            problem = Problem("Staffify needs the required documents before review: upload them first.", err.request_id)
        elif isinstance(err, staffify.ConflictError) and err.code == "ALREADY_SUBMITTED":
            problem = Problem("This address was already submitted: check its status instead.", err.request_id)
        audit.record(
            user,
            audit.Action.ADDRESS_SUBMIT,
            outcome=audit.outcome_of(err),
            before=before,
            err=err,
            message=problem.message,
        )
        return Result(False, problem=problem, entry=entry)
    return _submitted(user, entry, status, before)


def _submitted(
    user: Any,
    entry: AddressBookEntry,
    status: staffify.AddressStatus,
    before: dict,
    late: staffify.StaffifyError | None = None,
) -> Result:
    """Staffify has the address under review (its answer, or LATE's read-back): record it and say so."""
    _apply_status(entry, status)
    if entry.submitted_at is None:
        entry.submitted_at = timezone.now()
    entry.save()
    lookups.forget_listed_addresses()
    if late is None:
        message = f"Address {entry.staffify_id} submitted for review: {entry.status_text}."
    else:
        message = f"{trouble(late)} Checked: address {entry.staffify_id} was submitted for review: {entry.status_text}."
    audit.record(
        user,
        audit.Action.ADDRESS_SUBMIT,
        outcome=audit.Outcome.OK,
        before=before,
        after=_facts(entry),
        err=late,
        message=message,
    )
    return Result(True, message, entry=entry)


def _read_back_submit(
    client: staffify.StaffifyClient, user: Any, entry: AddressBookEntry, err: staffify.StaffifyError
) -> Result | None:
    """A submit whose answer did not come (timeout, 5xx after sending): read the address's status
    back at once and say what is true. None when the outcome is known, or the read-back failed too
    (then the answer stays "not known", and the address is followed by the worker's status checks)."""
    if not err.outcome_unknown:
        return None
    before = _facts(entry)
    try:
        status = client.check_address_status(entry.staffify_id)
    except staffify.StaffifyError:
        return None
    if status.submitted_at is None and status.status == "pending":
        problem = Problem(
            f"{trouble(err)} Checked: Staffify did not submit address {entry.staffify_id}; nothing was changed. "
            "Try again in a moment.",
            err.request_id,
        )
        audit.record(
            user,
            audit.Action.ADDRESS_SUBMIT,
            outcome=audit.Outcome.ERROR,
            before=before,
            err=err,
            message=problem.message,
        )
        return Result(False, problem=problem, entry=entry)
    return _submitted(user, entry, status, before, late=err)


def check(client: staffify.StaffifyClient, user: Any, entry: AddressBookEntry) -> Result:
    """Ask Staffify for the address's status now (a person clicked, or the worker's turn came).
    The worker's checks are audited only when the status changed, so the log is not a poll log."""
    before = _facts(entry)
    try:
        status = client.check_address_status(entry.staffify_id)
    except staffify.StaffifyError as err:
        problem = explain(err, what=f"address {entry.staffify_id}")
        if user is not None:
            audit.record(
                user,
                audit.Action.ADDRESS_CHECK,
                outcome=audit.Outcome.ERROR,
                before=before,
                err=err,
                message=problem.message,
            )
        return Result(False, problem=problem, entry=entry)
    _apply_status(entry, status)
    entry.save()
    changed = before["status"] != entry.status
    if changed:
        lookups.forget_listed_addresses()
    message = f"Address {entry.staffify_id}: {entry.status_text}."
    if user is not None or changed:
        audit.record(
            user,
            audit.Action.ADDRESS_CHECK,
            outcome=audit.Outcome.OK,
            before=before,
            after=_facts(entry),
            message=message if user is not None else f"Checked by the worker. {message}",
        )
    return Result(True, message, entry=entry)


def to_follow() -> Any:
    """Entries whose status may still change: submitted (or added by id) and not final, oldest check first."""
    return (
        AddressBookEntry.objects.exclude(status__in=FINAL_ADDRESS_STATUSES)
        .filter(Q(submitted_at__isnull=False) | Q(added_how=AddressBookEntry.How.BY_ID))
        .order_by("status_checked_at", "staffify_id")
    )


def follow(client: staffify.StaffifyClient) -> int:
    """The worker's round: check each address not final yet, while the background budget allows."""
    checked = 0
    for entry in to_follow():
        if not budget.allow("background"):
            break  # people need the rest of this minute's calls: the next round goes on
        check(client, None, entry)
        checked += 1
    return checked
