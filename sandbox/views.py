"""The Staffify v1 API handlers. Each takes a Ctx (see endpoint.py) and raises ApiError on refusal."""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpResponse

from . import addresses, billing, inventory
from .endpoint import API, Ctx, route
from .errors import ApiError, iso, json_response, money, no_content, not_found, validation_error
from .models import Address, Agent, Charge, PhoneNumber, Project
from .parsing import body_int, body_str, path_id, query_cursor, query_limit

E164_RE = re.compile(r"\+[1-9][0-9]{6,14}")
CODE_RE = re.compile(r"[0-9]{2,5}")
CONTAINS_RE = re.compile(r"[0-9]{1,15}")
MAX_TAGS, MAX_TAG_LENGTH = 20, 50


# --- representations ----------------------------------------------------------------------------


def number_json(number: PhoneNumber) -> dict[str, Any]:
    return {
        "id": number.id,
        "phone_number": number.phone_number,
        "status": number.status,
        "agent_id": number.agent_id,
        "agent_name": number.agent.name if number.agent else None,
        "tags": number.tags,
        "country_code": number.country_code,
        "number_type": number.number_type,
        "purchased_at": iso(number.purchased_at),
        "reclaim_before": iso(number.reclaim_before),
    }


def agent_json(agent: Agent) -> dict[str, Any]:
    return {
        "id": agent.id,
        "public_id": agent.public_id,
        "name": agent.name,
        "language": agent.language,
        "voice": agent.voice,
        "created_at": iso(agent.created_at),
    }


def address_json(address: Address) -> dict[str, Any]:
    return {
        "id": address.id,
        "country_code": address.country_code,
        "city": address.city,
        "city_code": address.city_code or None,
        "postal_code": address.postal_code,
        "street_address": address.street_address,
        "company_name": address.company_name or None,
        "status": address.status,
    }


def _page(queryset, ctx: Ctx) -> tuple[list, int | None]:
    limit = query_limit(ctx.request)
    rows = list(queryset.filter(id__gt=query_cursor(ctx.request)).order_by("id")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more else None)


def _owned(ctx: Ctx, raw_id: str, *, lock: bool = False) -> PhoneNumber:
    numbers = PhoneNumber.objects.select_related("agent").filter(project=ctx.project)
    if lock:
        # "of self": PostgreSQL cannot lock the nullable side of the agent join.
        numbers = numbers.select_for_update(of=("self",))
    number = numbers.filter(pk=path_id(raw_id, "Phone number")).first()
    if number is None:
        raise not_found("Phone number")
    return number


# --- search and countries -----------------------------------------------------------------------


def countries(ctx: Ctx) -> HttpResponse:
    return json_response(
        {
            "countries": [
                {
                    "code": c.code,
                    "name": c.name,
                    "requires_address": c.requires_address,
                    "requires_city_code": c.local_presence,
                    "number_types": inventory.types_offered(c.code),
                }
                for c in inventory.COUNTRIES.values()
            ]
        }
    )


def search(ctx: Ctx) -> HttpResponse:
    query = ctx.request.GET
    errors: dict[str, str] = {}
    country_code = (query.get("country_code") or "US").upper()
    country = inventory.COUNTRIES.get(country_code)
    if country is None:
        errors["country_code"] = f"Unsupported country {country_code[:10]!r}; see /phone-numbers/countries."
    number_type = query.get("type") or inventory.LOCAL
    if number_type not in inventory.NUMBER_TYPES:
        errors["type"] = "Must be local, mobile or toll_free."
    code = None
    for field, applies in (("area_code", True), ("city_code", False)):
        value = query.get(field)
        if not value:
            continue
        if country and (country_code in inventory.US_CA) != applies:
            errors[field] = "area_code is for US and CA, city_code for the other countries."
        elif not CODE_RE.fullmatch(value):
            errors[field] = "Must be 2 to 5 digits."
        code = value
    contains = query.get("contains") or None
    if contains is not None and not CONTAINS_RE.fullmatch(contains):
        errors["contains"] = "Must be 1 to 15 digits."
    try:
        limit = query_limit(ctx.request)
    except ApiError as error:
        errors.update(error.details or {})
        limit = 0
    if errors:
        raise validation_error(errors)
    assert country is not None

    if (
        country.requires_address
        and not Address.objects.filter(
            project__org_id=ctx.project.org_id, country_code=country.code, status__in=Address.USABLE
        ).exists()
    ):
        return json_response(
            {
                "numbers": [],
                "address_required": True,
                "message": f"Numbers in {country.code} need a verified or partially verified address there.",
            }
        )
    # Only numbers of the searched blocks can hide a candidate; a large account's others stay unread.
    codes = {block.code for block in inventory.blocks_for(country.code, number_type, code)}
    owned = PhoneNumber.objects.filter(country_code=country.code, number_type=number_type, code__in=codes).values_list(
        "phone_number", flat=True
    )
    found = inventory.search(country.code, number_type, code, contains, exclude=owned, limit=limit)
    return json_response({"numbers": [c.as_json() for c in found]})


# --- purchase -------------------------------------------------------------------------------------


def _purchase_fields(data: dict[str, Any]) -> tuple[str, str, str, int | None, str | None]:
    errors: dict[str, str] = {}
    phone_number = data.get("phone_number")
    if phone_number is None:
        errors["phone_number"] = "This field is required."
    elif not isinstance(phone_number, str) or not E164_RE.fullmatch(phone_number):
        errors["phone_number"] = "Must be an E.164 number such as +14155551234."
    country_code = data.get("country_code", "US")
    if not isinstance(country_code, str) or country_code.upper() not in inventory.COUNTRIES:
        errors["country_code"] = "Must be a supported ISO country code; see /phone-numbers/countries."
    number_type = data.get("number_type", inventory.LOCAL)
    if number_type not in inventory.NUMBER_TYPES:
        errors["number_type"] = "Must be local, mobile or toll_free."
    address_id = city_code = None
    try:
        address_id = body_int(data, "address_id")
    except ApiError as error:
        errors.update(error.details or {})
    try:
        city_code = body_str(data, "city_code", max_length=10)
    except ApiError as error:
        errors.update(error.details or {})
    if errors:
        raise validation_error(errors)
    assert isinstance(phone_number, str)  # otherwise `errors` names it
    return phone_number, country_code.upper(), number_type, address_id, city_code


def _check_address(
    ctx: Ctx, candidate: inventory.Candidate, address_id: int | None, city_code: str | None
) -> Address | None:
    country = inventory.COUNTRIES[candidate.country_code]
    if not country.requires_address:
        # US/CA: no address_id, but the org must have at least one verified address on file.
        if not Address.objects.filter(project__org_id=ctx.project.org_id, status=Address.VERIFIED).exists():
            raise ApiError(
                400, "VERIFIED_ADDRESS_REQUIRED", "Buying US or CA numbers needs a verified address on file."
            )
        return None
    if address_id is None:
        raise ApiError(
            400,
            "ADDRESS_REQUIRED",
            f"Numbers in {country.code} need an address_id of a verified address there.",
            {"address_id": "This field is required outside US and CA."},
        )
    address = Address.objects.filter(project__org_id=ctx.project.org_id, pk=address_id).first()
    if address is None:
        raise ApiError(404, "NOT_FOUND", "Address not found.", {"address_id": "No such address."})
    if address.status not in Address.USABLE:
        raise ApiError(
            400,
            "ADDRESS_NOT_VERIFIED",
            f"Address {address.id} is {address.status}; it must be verified or partially_verified.",
            {"address_id": f"Address is {address.status}."},
        )
    if address.country_code != country.code:
        raise ApiError(
            400,
            "ADDRESS_COUNTRY_MISMATCH",
            f"Address {address.id} is in {address.country_code}, the number in {country.code}.",
            {"address_id": "Address is in another country."},
        )
    needs_city = country.local_presence and candidate.number_type == inventory.LOCAL
    if needs_city and not city_code:
        raise ApiError(
            400,
            "CITY_CODE_REQUIRED",
            f"Local numbers in {country.code} need the city_code of your address ({address.city_code}).",
            {"city_code": "This field is required for local numbers here."},
        )
    if city_code and city_code != address.city_code:
        raise ApiError(
            400,
            "CITY_CODE_MISMATCH",
            f"city_code {city_code} differs from address {address.id}'s city_code {address.city_code}.",
            {"city_code": "Must equal the address's city_code."},
        )
    if needs_city and candidate.code != address.city_code:
        raise ApiError(
            400,
            "CITY_CODE_MISMATCH",
            f"The number is in {candidate.locality} ({candidate.code}); your address is in "
            f"{address.city} ({address.city_code}).",
            {"phone_number": "Must be a number in your address's city."},
        )
    return address


def purchase(ctx: Ctx) -> HttpResponse:
    phone_number, country_code, number_type, address_id, city_code = _purchase_fields(ctx.body())
    candidate = inventory.find(phone_number)
    if candidate is None:
        raise ApiError(
            400,
            "NUMBER_NOT_IN_INVENTORY",
            "This number is not for sale; buy a number from the search results.",
            {"phone_number": "Not in the available inventory."},
        )
    mismatch = {}
    if candidate.country_code != country_code:
        mismatch["country_code"] = f"{phone_number} is a {candidate.country_code} number, not {country_code}."
    if candidate.number_type != number_type:
        mismatch["number_type"] = f"{phone_number} is a {candidate.number_type} number, not {number_type}."
    if mismatch:
        raise validation_error(mismatch)
    if PhoneNumber.objects.filter(phone_number=phone_number).exists():
        raise ApiError(409, "NUMBER_NOT_AVAILABLE", f"{phone_number} has already been bought.")
    address = _check_address(ctx, candidate, address_id, city_code)

    try:
        with transaction.atomic():
            account = ctx.project.account(lock=True)  # the organisation's balance
            project = Project.objects.get(pk=ctx.project.pk)
            if account.balance < billing.PRICE:
                raise ApiError(
                    402,
                    "INSUFFICIENT_CREDITS",
                    f"Your balance is EUR {account.balance:.2f}; buying a number needs EUR {billing.PRICE:.2f}.",
                    extra={"balance": money(account.balance), "required": money(billing.PRICE)},
                )
            number = PhoneNumber.objects.create(
                project=project,
                phone_number=candidate.phone_number,
                country_code=candidate.country_code,
                number_type=candidate.number_type,
                locality=candidate.locality,
                code=candidate.code,
                address=address,
                purchased_at=ctx.now,
                paid_until=ctx.now + billing.CYCLE,
                cycles_billed=1,
            )
            Charge.objects.create(
                project=project,
                number=number,
                phone_number=number.phone_number,
                amount=billing.PRICE,
                reason=Charge.PURCHASE,
                at=ctx.now,
            )
            account.balance -= billing.PRICE
            account.balance_updated_at = ctx.now
            account.save(update_fields=["balance", "balance_updated_at"])
    except IntegrityError:  # bought by a concurrent call between the check and the insert
        raise ApiError(409, "NUMBER_NOT_AVAILABLE", f"{phone_number} has already been bought.") from None
    return json_response({"success": True, "id": number.id, "phone_number": number.phone_number}, 201)


# --- owned numbers --------------------------------------------------------------------------------


def list_numbers(ctx: Ctx) -> HttpResponse:
    rows, next_cursor = _page(PhoneNumber.objects.select_related("agent").filter(project=ctx.project), ctx)
    return json_response({"phone_numbers": [number_json(n) for n in rows], "next_cursor": next_cursor})


def get_number(ctx: Ctx, number_id: str) -> HttpResponse:
    return json_response(number_json(_owned(ctx, number_id)))


def update_tags(ctx: Ctx, number_id: str) -> HttpResponse:
    _owned(ctx, number_id)  # an unknown number is 404 before its body is judged
    data = ctx.body()
    unknown = sorted(set(data) - {"tags"})
    if unknown:
        raise validation_error({field[:50]: "Only tags can be changed here." for field in unknown[:5]})
    tags = data.get("tags")
    if "tags" not in data:
        raise validation_error({"tags": "This field is required."})
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise validation_error({"tags": "Must be an array of strings."})
    if len(tags) > MAX_TAGS:
        raise validation_error({"tags": f"At most {MAX_TAGS} tags."})
    if any(len(t) > MAX_TAG_LENGTH for t in tags):
        raise validation_error({"tags": f"Each tag may have at most {MAX_TAG_LENGTH} characters."})
    if any(not t.strip() or not t.isprintable() for t in tags):
        raise validation_error({"tags": "Tags must be non-blank text without control characters."})
    with transaction.atomic():
        number = _owned(ctx, number_id, lock=True)
        number.tags = tags
        number.save(update_fields=["tags"])
    return json_response(number_json(number))


def release(ctx: Ctx, number_id: str) -> HttpResponse:
    with transaction.atomic():
        number = _owned(ctx, number_id, lock=True)
        if number.status != PhoneNumber.ACTIVE:
            raise ApiError(409, "ALREADY_PENDING_RELEASE", "This number is already pending release.")
        if number.agent_id is not None:
            raise ApiError(
                409, "AGENT_ASSIGNED", "Unassign the agent first: a number with an agent cannot be released."
            )
        number.status = PhoneNumber.PENDING_RELEASE
        number.released_at = ctx.now
        number.reclaim_before = ctx.now + billing.RECLAIM_WINDOW
        number.save(update_fields=["status", "released_at", "reclaim_before"])
    return json_response({"pending_release": True, "id": number.id, "reclaim_before": iso(number.reclaim_before)})


def reclaim(ctx: Ctx, number_id: str) -> HttpResponse:
    with transaction.atomic():
        number = _owned(ctx, number_id, lock=True)
        if number.status != PhoneNumber.PENDING_RELEASE:
            raise ApiError(409, "NOT_PENDING_RELEASE", "Only a number pending release can be reclaimed.")
        # Settlement already removed numbers past their window, so this one is inside it.
        number.status = PhoneNumber.ACTIVE
        number.released_at = number.reclaim_before = None
        # Boundaries that passed while pending are skipped, never charged later.
        number.paid_until = billing.next_boundary_after(number.paid_until, ctx.now)
        number.save(update_fields=["status", "released_at", "reclaim_before", "paid_until"])
    return json_response({"reclaimed": True, "id": number.id, "status": number.status})


def assign(ctx: Ctx, number_id: str) -> HttpResponse:
    _owned(ctx, number_id)
    agent_id = body_int(ctx.body(), "agent_id", required=True)
    agent = Agent.objects.filter(project=ctx.project, pk=agent_id).first()
    if agent is None:
        raise ApiError(404, "NOT_FOUND", "Agent not found.", {"agent_id": "No such agent."})
    with transaction.atomic():
        # Locked, so that a release running at the same time sees the agent or refuses first.
        number = _owned(ctx, number_id, lock=True)
        if number.status != PhoneNumber.ACTIVE:
            raise ApiError(409, "NOT_ACTIVE", "A number pending release cannot be assigned; reclaim it first.")
        number.agent = agent
        number.save(update_fields=["agent"])
    return json_response({"success": True, "phone_number_id": number.id, "agent_id": agent.id})


def unassign(ctx: Ctx, number_id: str) -> HttpResponse:
    with transaction.atomic():
        number = _owned(ctx, number_id, lock=True)
        if number.agent_id is None:
            raise ApiError(409, "NO_AGENT_ASSIGNED", "No agent is assigned to this number.")
        number.agent = None
        number.save(update_fields=["agent"])
    return no_content()


# --- agents, addresses, credits ---------------------------------------------------------------------


def list_agents(ctx: Ctx) -> HttpResponse:
    rows, next_cursor = _page(Agent.objects.filter(project=ctx.project), ctx)
    return json_response({"agents": [agent_json(a) for a in rows], "next_cursor": next_cursor})


def list_addresses(ctx: Ctx) -> HttpResponse:
    # Undocumented upstream: the control endpoint addresses-listing switches it off, as Staffify may be.
    if not ctx.project.addresses_listing_enabled:
        raise ApiError(404, "NOT_FOUND", f"No endpoint at {ctx.request.path}.")
    rows = Address.objects.filter(project__org_id=ctx.project.org_id).order_by("id")  # the organisation's
    return json_response({"addresses": [address_json(a) for a in rows]})


def credits(ctx: Ctx) -> HttpResponse:
    project = ctx.project.account()  # the organisation's
    return json_response(
        {
            "balance": money(project.balance),
            "tier": project.tier,
            "rate_per_minute": money(project.rate_per_minute),
            "is_paused": project.is_paused,
            "concurrent_limit": project.concurrent_limit,
            "credits_expire_at": None,
            "updated_at": iso(project.balance_updated_at),
        }
    )


phone_numbers_view = route(API, GET=list_numbers, POST=purchase)
search_view = route(API, GET=search)
countries_view = route(API, GET=countries)
number_view = route(API, GET=get_number, PATCH=update_tags, DELETE=release)
assign_view = route(API, PUT=assign, DELETE=unassign)
reclaim_view = route(API, POST=reclaim)
agents_view = route(API, GET=list_agents)
addresses_view = route(API, GET=list_addresses, POST=addresses.create)
credits_view = route(API, GET=credits)
