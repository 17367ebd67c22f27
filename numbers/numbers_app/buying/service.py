"""Buying a number: Staffify's rules checked before anything is sent, the guard that never buys twice,
and the truth when Staffify's answer is lost.

Views hand this module clean form data and render what it returns; nothing here knows about requests
or templates. Nothing here sleeps: an unconfirmed purchase is checked once in the request, then left
`unknown` for the worker's sweeper (numbers_app.buying.purchases) to settle.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

from django.db import IntegrityError, transaction
from django.utils import timezone

from numbers_app import staffify
from numbers_app.addresses import book as address_book
from numbers_app.audit import log as audit
from numbers_app.changes import service as changes
from numbers_app.mirror import ledger
from numbers_app.models import AuditEntry, PurchaseAttempt
from numbers_app.rules import (
    CYCLE_DAYS,
    LOCAL_PRESENCE_COUNTRIES,
    NO_ADDRESS_COUNTRIES,
    PRICE_PER_CYCLE,
)
from numbers_app.staffify import lookups
from numbers_app.text.explain import Problem, explain, trouble
from numbers_app.text.presenters import format_phone


def usable_addresses(client: staffify.StaffifyClient, country: str) -> list[staffify.Address]:
    """The addresses Staffify accepts for a purchase in COUNTRY: the dashboard's address book, and
    Staffify's own listing where it has one (numbers_app.addresses.book)."""
    return address_book.usable(client, country)


# ---------------------------------------------------------------------------------------------
# Searching


@dataclass
class SearchResult:
    results: list[dict[str, Any]] = field(default_factory=list)
    notice: str | None = None
    problem: Problem | None = None
    address_country: str | None = None  # the notice is about a missing address here: link to Addresses


def search(client: staffify.StaffifyClient, params: dict[str, Any], country: staffify.Country | None) -> SearchResult:
    """Available numbers for PARAMS (a clean SearchForm), or why there are none to show."""
    code = params["country_code"]
    try:
        if country is not None and country.requires_address and not usable_addresses(client, code):
            return SearchResult(
                notice=(
                    f"{country.name} needs a verified (or partially verified) address before Staffify lists "
                    f"or sells numbers there, and this account has none in {code} yet. Add and verify "
                    "one on the Addresses page, then search again."
                ),
                address_country=code,
            )
        local = code in NO_ADDRESS_COUNTRIES
        found = client.search_numbers(
            country_code=code,
            number_type=params["number_type"],
            area_code=(params["area_code"] or None) if local else None,
            city_code=None if local else (params["city_code"] or None),
            contains=params["contains"] or None,
            limit=params["limit"],
        )
    except staffify.StaffifyError as err:
        return SearchResult(problem=explain(err))
    return SearchResult(
        results=[
            {
                "number": n,
                "display": format_phone(n.phone_number),
                "code": n.area_code or n.city_code,
                "query": urlencode(
                    {
                        "phone_number": n.phone_number,
                        "country_code": n.country_code or code,
                        "number_type": n.number_type or params["number_type"],
                        "city_code": n.city_code or "",
                        "locality": n.locality or "",
                    }
                ),
            }
            for n in found
        ]
    )


# ---------------------------------------------------------------------------------------------
# The confirmation


def confirmation(
    client: staffify.StaffifyClient, data: dict[str, Any], err: staffify.StaffifyError | None = None
) -> dict:
    """What the confirmation dialog needs: the charge, the balance, the addresses allowed, and any
    reason Staffify would refuse, found before anything is sent. With ERR (a refused purchase), the
    dialog says what Staffify answered instead of repeating it with the dashboard's own check."""
    country = data["country_code"]
    context: dict[str, Any] = {
        **data,
        "display": format_phone(data["phone_number"]),
        "price": PRICE_PER_CYCLE,
        "token": uuid.uuid4(),
        "refusal": None,
        "problem": None,
        "addresses": [],
        "balance": None,
        "balance_after": None,
        "address_country": None,
        "blocked": False,  # nothing to say beyond `problem`, but buying cannot work now
    }
    try:
        balance: Decimal = lookups.fresh_balance(client)
        context["balance"] = balance
        countries = {c.code: c for c in lookups.countries(client)}
        needs_address = countries[country].requires_address if country in countries else True
        if needs_address:
            usable = usable_addresses(client, country)
            number_city = data.get("number_city_code") or ""
            if country in LOCAL_PRESENCE_COUNTRIES and data["number_type"] == "local" and number_city:
                same_city = [a for a in usable if (a.city_code or "") == number_city]
                if usable and not same_city:
                    context["refusal"] = (
                        f"Local numbers in {country} need an address in the same city: this number is in "
                        f"city code {number_city}, and your usable {country} addresses are in "
                        + ", ".join(f"{a.city} ({a.city_code})" for a in usable)
                        + ". Search that city code instead."
                    )
                usable = same_city
            context["addresses"] = usable
            if not usable and not context["refusal"]:
                context["refusal"] = (
                    f"Numbers in {country} need a verified or partially verified address in {country}, and "
                    "this account has none. Add and verify one on the Addresses page first."
                )
                context["address_country"] = country
        if balance >= PRICE_PER_CYCLE:
            context["balance_after"] = balance - PRICE_PER_CYCLE
        elif isinstance(err, staffify.PaymentRequiredError):
            context["blocked"] = True  # Staffify's 402, explained once below (with this balance)
        elif not context["refusal"]:
            context["refusal"] = (
                f"The balance is EUR {balance:.2f}; a number costs EUR {PRICE_PER_CYCLE:.2f} "
                "at purchase. Top up the Staffify balance first."
            )
    except staffify.StaffifyError as read_err:
        context["problem"] = explain(read_err)
        context["refusal"] = "The dashboard cannot check the balance and addresses right now, so it will not buy."
    if err is not None:
        context["problem"] = explain(err, balance=context["balance"])
    return context


# ---------------------------------------------------------------------------------------------
# The purchase


class Result(StrEnum):
    BOUGHT = "bought"  # Staffify bought it (said so, or the owned list shows it)
    REFUSED = "refused"  # Staffify answered no: nothing was bought
    UNKNOWN = "unknown"  # no answer and not in the owned list yet: the sweeper settles it
    REPEATED = "repeated"  # this confirmation was used before: nothing sent


@dataclass
class Outcome:
    result: Result
    attempt: PurchaseAttempt
    number_id: int | None = None
    phone_number: str = ""
    message: str = ""
    problem: Problem | None = None
    err: staffify.StaffifyError | None = None


def buy(client: staffify.StaffifyClient, user: Any, data: dict[str, Any]) -> Outcome:
    """Buy DATA's number (a clean PurchaseForm) once per confirmation token.

    The PurchaseAttempt row is committed before the purchase is sent, so a crash mid-request leaves a
    row the sweeper can find. A purchase is never sent twice: not on a retry (the client sends it
    once), not on a second submit of the same confirmation (the token is unique).
    """
    try:
        with transaction.atomic():
            attempt = PurchaseAttempt.objects.create(
                token=data["token"], user=user, phone_number=data["phone_number"], country_code=data["country_code"]
            )
    except IntegrityError:
        return Outcome(Result.REPEATED, PurchaseAttempt.objects.get(token=data["token"]))

    address_id = data.get("address_id")
    city_code = data.get("city_code") or None
    if address_id:
        # The address decides the city code (Staffify requires them to match); never trust the form for it.
        address = address_book.find(client, address_id)
        city_code = (address.city_code if address else city_code) or None
    if data["country_code"] in NO_ADDRESS_COUNTRIES:
        city_code = None
    facts = {
        "phone_number": data["phone_number"],
        "country_code": data["country_code"],
        "number_type": data["number_type"],
        "address_id": address_id,
        "city_code": city_code,
    }
    # Write-ahead: a crash from here on leaves this entry "sent" for the sweeper (numbers_app.buying.purchases).
    entry = audit.record(
        user, audit.Action.BUY, outcome=audit.Outcome.SENT, phone_number=attempt.phone_number, after=facts
    )
    try:
        purchase = client.purchase_number(
            data["phone_number"],
            country_code=data["country_code"],
            number_type=data["number_type"],
            address_id=address_id,
            city_code=city_code,
        )
    except staffify.StaffifyError as err:
        # A 429 too: documented as a refusal, but a proxy may answer it after Staffify bought the number.
        if err.outcome_unknown or isinstance(err, (staffify.ServerError, staffify.RateLimitError)):
            return _unconfirmed(client, user, attempt, entry, err)
        problem = explain(err)
        _finish(attempt, PurchaseAttempt.State.FAILED, message=str(problem))
        audit.settle(entry, audit.Outcome.ERROR, err=err, message=problem.message)
        return Outcome(Result.REFUSED, attempt, phone_number=attempt.phone_number, problem=problem, err=err)
    audit.settle(entry, audit.Outcome.OK, number_id=purchase.id, after={"id": purchase.id, **facts})
    return _bought(user, attempt, purchase.id, purchase.phone_number or data["phone_number"])


def _finish(attempt: PurchaseAttempt, state: str, *, number_id: int | None = None, message: str = "") -> None:
    attempt.state = state
    attempt.staffify_id = number_id
    attempt.message = message
    attempt.save(update_fields=["state", "staffify_id", "message", "updated_at"])


def _bought(user: Any, attempt: PurchaseAttempt, number_id: int, phone: str, note: str = "") -> Outcome:
    ledger.record_purchase(number_id, phone, user, timezone.now())
    _finish(attempt, PurchaseAttempt.State.SUCCEEDED, number_id=number_id, message=note)
    lookups.forget_balance()
    message = note or f"Bought {format_phone(phone)}: EUR {PRICE_PER_CYCLE:.2f} now and every {CYCLE_DAYS} days."
    return Outcome(Result.BOUGHT, attempt, number_id=number_id, phone_number=phone, message=message)


def find_owned(client: staffify.StaffifyClient, phone: str) -> staffify.PhoneNumber | None:
    return next((n for n in client.iter_numbers(page_size=100) if n.phone_number == phone), None)


def _unconfirmed(
    client: staffify.StaffifyClient,
    user: Any,
    attempt: PurchaseAttempt,
    entry: AuditEntry,
    err: staffify.StaffifyError,
) -> Outcome:
    """Staffify may or may not have bought it: look in the owned list once before saying anything."""
    rid = err.request_id
    display = format_phone(attempt.phone_number)
    audit.settle(entry, audit.Outcome.UNKNOWN, err=err, message="Staffify did not confirm; checking the owned list.")
    unknown = {"pk": entry.pk}
    try:
        owned = find_owned(client, attempt.phone_number)
    except staffify.StaffifyError:
        message = (
            f"Staffify did not confirm the purchase of {display}, and the dashboard could not check "
            "the owned list either. The dashboard keeps checking and the audit log will say; look at the "
            "owned list before trying again."
        )
        return _still_unknown(attempt, unknown, message, rid)
    if owned is not None:
        late = "did not confirm in time" if err.outcome_unknown else f"answered with an error (HTTP {err.status})"
        note = (
            f"Staffify {late}, but the dashboard checked the owned list: "
            f"{format_phone(owned.phone_number)} is yours (number #{owned.id})."
        )
        audit.resolve(
            unknown,
            outcome=audit.Outcome.OK,
            number_id=owned.id,
            after={"id": owned.id, "phone_number": owned.phone_number},
            message=note,
        )
        return _bought(user, attempt, owned.id, owned.phone_number, note)
    if err.outcome_unknown:
        message = (
            f"Staffify did not confirm the purchase. The dashboard checked the owned list and {display} "
            "is not in it yet, but Staffify may still complete it: the dashboard checks again in the "
            "background and the audit log will say. Look at the owned list in a minute before trying again."
        )
        return _still_unknown(attempt, unknown, message, rid)
    if isinstance(err, staffify.RateLimitError):
        message = f"{explain(err).message} The dashboard checked the owned list: {display} was not bought."
    else:
        message = (
            f"{trouble(err)} The dashboard checked the owned list and {display} is not in it, so nothing "
            "was bought. Try again in a moment."
        )
    _finish(attempt, PurchaseAttempt.State.FAILED, message=message)
    audit.resolve(unknown, outcome=audit.Outcome.ERROR, message=message)
    return Outcome(Result.REFUSED, attempt, phone_number=attempt.phone_number, problem=Problem(message, rid))


def _still_unknown(attempt: PurchaseAttempt, unknown: dict, message: str, rid: str | None) -> Outcome:
    """Not settled yet: the attempt and its audit entry stay unknown for the sweeper (numbers_app.changes.settle)."""
    _finish(attempt, PurchaseAttempt.State.UNKNOWN, message=message)
    audit.resolve(unknown, outcome=audit.Outcome.UNKNOWN, message=message)
    return Outcome(Result.UNKNOWN, attempt, phone_number=attempt.phone_number, problem=Problem(message, rid))


def repeated_message(attempt: PurchaseAttempt, user: Any) -> str:
    """Records a second use of a confirmation and says what became of the first."""
    audit.record(
        user,
        audit.Action.BUY,
        outcome=audit.Outcome.INVALID,
        number_id=attempt.staffify_id,
        phone_number=attempt.phone_number,
        message=f"The same confirmation arrived again ({attempt.get_state_display().lower()}); not sent.",
    )
    if attempt.state == PurchaseAttempt.State.SUCCEEDED:
        return f"{format_phone(attempt.phone_number)} was already bought by this confirmation."
    if attempt.state == PurchaseAttempt.State.PENDING:
        return "This purchase is already being sent to Staffify; it will not be sent twice."
    return f"This confirmation was already used ({attempt.get_state_display().lower()}). Open Buy again to retry."


# ---------------------------------------------------------------------------------------------
# After the purchase: the agent and tags chosen in the confirmation


@dataclass
class SetUp:
    """The new number after its agent and tags were asked for; `problems` says what did not happen."""

    number: staffify.PhoneNumber
    problems: list[str] = field(default_factory=list)


def set_up(
    client: staffify.StaffifyClient,
    user: Any,
    number_id: int,
    phone: str,
    agent: staffify.Agent | None,
    tags: list[str],
) -> SetUp:
    """Assign AGENT and set TAGS on a number just bought: two writes, each audited ahead and settled
    like any other (numbers_app.changes.settle). A failure of either leaves the purchase standing and is said."""
    done = SetUp(staffify.PhoneNumber(id=number_id, phone_number=phone, status="active"))  # as bought: bare
    chosen = "Chosen in the purchase confirmation."
    if agent is not None:
        change = changes.assign(
            client, user, number_id, agent.id, agent_name=agent.name, before=done.number, message=chosen
        )
        _said(done, change, f"Assigning it to {agent.name}")
    if tags:
        _said(
            done, changes.set_tags(client, user, number_id, tags, before=done.number, message=chosen), "Saving its tags"
        )
    return done


def _said(done: SetUp, change: changes.Change, what: str) -> None:
    """The number as the set-up's write left it, and what went wrong, if anything."""
    if change.number is not None:
        done.number = change.number
    if not change.done:
        problem = change.problem or Problem("Staffify did not confirm it.")
        rid = f" (Staffify request id {problem.request_id})" if problem.request_id else ""
        done.problems.append(f"{what} failed: {problem.message}{rid}")
