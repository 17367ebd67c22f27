"""The address verification workflow: requirements, create, upload documents, submit, check status.

A new address is `pending` and unsubmitted. Submitting it schedules verification on the sandbox
clock (the project's `address_verify_delay`, 10 minutes by default); settlement at the start of every
call turns a pending address whose time has come into `verified`. Control endpoints decide sooner.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import transaction
from django.http import HttpResponse
from django.http.multipartparser import MultiPartParserError

from . import billing, inventory
from .endpoint import API, Ctx, route
from .errors import ApiError, iso, json_response, not_found, validation_error
from .models import Address, AddressDocument, Project
from .parsing import path_id

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
# What a file is comes from its first bytes, not from the name or the declared Content-Type.
FILE_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
ACCEPTED_TYPES = [content_type for _, content_type in FILE_SIGNATURES]

E164_RE = re.compile(r"\+[1-9][0-9]{6,14}")
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
CITY_CODE_RE = re.compile(r"[0-9]{2,5}")

DOCUMENT_DESCRIPTIONS = {
    AddressDocument.GOVERNMENT_ID: "A passport, national identity card or driving licence of the contact person.",
    AddressDocument.BUSINESS_REGISTRATION: (
        "A recent chamber of commerce extract (or equivalent) showing the company at this address."
    ),
}

# (field, longest, required); strings are stripped of surrounding spaces before they are judged.
_TEXT_FIELDS = (
    ("street_address", 200, True),
    ("city", 100, True),
    ("postal_code", 20, True),
    ("contact_name", 100, True),
    ("contact_email", 254, True),
    ("contact_phone", 20, True),
    ("company_name", 200, False),
)


# --- rules ----------------------------------------------------------------------------------------


def required_documents(country: inventory.Country) -> list[str]:
    """Every country needs an ID; local-presence countries (DE, ES) also a business registration."""
    if country.local_presence:
        return [AddressDocument.GOVERNMENT_ID, AddressDocument.BUSINESS_REGISTRATION]
    return [AddressDocument.GOVERNMENT_ID]


def status_json(address: Address) -> dict[str, Any]:
    return {
        "address_id": address.id,
        "status": address.status,
        "reason": address.reason or None,
        "submitted_at": iso(address.submitted_at),
        "updated_at": iso(address.updated_at),
    }


def document_json(document: AddressDocument) -> dict[str, Any]:
    return {
        "document_id": document.id,
        "address_id": document.address_id,
        "document_type": document.document_type,
        "filename": document.filename,
        "content_type": document.content_type,
        "size": document.size,
        "uploaded_at": iso(document.uploaded_at),
    }


def _country(raw: Any, field: str) -> inventory.Country:
    country = inventory.COUNTRIES.get(raw.upper()) if isinstance(raw, str) else None
    if country is None:
        raise validation_error(
            {field: "Must be a supported ISO country code; see /phone-numbers/countries."}
            if raw
            else {field: "This field is required."}
        )
    return country


def owned_address(project: Project, raw_id: str, *, lock: bool = False) -> Address:
    addresses = Address.objects.filter(project__org_id=project.org_id)  # addresses are the organisation's
    if lock:
        addresses = addresses.select_for_update()
    address = addresses.filter(pk=path_id(raw_id, "Address")).first()
    if address is None:
        raise not_found("Address")
    return address


# --- handlers -------------------------------------------------------------------------------------


def requirements(ctx: Ctx) -> HttpResponse:
    country = _country(ctx.request.GET.get("country"), "country")
    needed = required_documents(country)
    return json_response(
        {
            "country_code": country.code,
            "country_name": country.name,
            "requires_address": country.requires_address,
            "local_presence": country.local_presence,
            "city_code_required": country.local_presence,
            "documents": [
                {
                    "type": document_type,
                    "description": DOCUMENT_DESCRIPTIONS[document_type],
                    "required": document_type in needed,
                }
                for document_type in AddressDocument.TYPES
            ],
            "accepted_file_types": ACCEPTED_TYPES,
            "max_file_size": MAX_DOCUMENT_BYTES,
        }
    )


def create(ctx: Ctx) -> HttpResponse:
    data = ctx.body()
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    for field, longest, required in _TEXT_FIELDS:
        value = data.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                errors[field] = "This field is required."
            values[field] = ""
            continue
        if not isinstance(value, str) or len(value.strip()) > longest or not value.strip().isprintable():
            errors[field] = f"Must be text of at most {longest} characters."
            continue
        values[field] = value.strip()
    if "contact_email" not in errors and values["contact_email"] and not EMAIL_RE.fullmatch(values["contact_email"]):
        errors["contact_email"] = "Must be an email address."
    if "contact_phone" not in errors and values["contact_phone"] and not E164_RE.fullmatch(values["contact_phone"]):
        errors["contact_phone"] = "Must be an E.164 number such as +31201234567."
    country = None
    try:
        country = _country(data.get("country_code"), "country_code")
    except ApiError as error:
        errors.update(error.details or {})
    city_code = data.get("city_code")
    if city_code is not None and (not isinstance(city_code, str) or not CITY_CODE_RE.fullmatch(city_code)):
        errors["city_code"] = "Must be 2 to 5 digits, e.g. 020 or 030."
    elif city_code is None and country is not None and country.local_presence:
        errors["city_code"] = f"Required in {country.code}: local numbers there must match the address's city code."
    if errors:
        raise validation_error(errors)
    assert country is not None
    address = Address.objects.create(
        project=ctx.project,
        country_code=country.code,
        city_code=city_code or "",
        status=Address.PENDING,
        created_at=ctx.now,
        updated_at=ctx.now,
        **values,
    )
    return json_response({"address_id": address.id, "status": address.status}, 201)


def _uploaded_file(ctx: Ctx):
    request = ctx.request
    if not (request.content_type or "").startswith("multipart/form-data"):
        raise validation_error({"file": "Send the document as multipart/form-data with a file field named file."})
    try:
        files, fields = request.FILES, request.POST
    except RequestDataTooBig:
        raise ApiError(413, "PAYLOAD_TOO_LARGE", "The request body is too large.") from None
    except (MultiPartParserError, TooManyFieldsSent):
        raise validation_error({"file": "The multipart body could not be read."}) from None
    errors: dict[str, str] = {}
    document_type = fields.get("document_type")
    if document_type not in AddressDocument.TYPES:
        errors["document_type"] = "Must be government_id or business_registration."
    upload = files.get("file")
    if upload is None:
        errors["file"] = "This field is required."
    elif upload.size == 0:
        errors["file"] = "The file is empty."
    if errors:
        raise validation_error(errors)
    return upload, document_type


def upload_document(ctx: Ctx, address_id: str) -> HttpResponse:
    owned_address(ctx.project, address_id)  # another project's address is 404 before the file is judged
    upload, document_type = _uploaded_file(ctx)
    if upload.size > MAX_DOCUMENT_BYTES:
        raise ApiError(
            400,
            "FILE_TOO_LARGE",
            f"Documents may be at most {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB; this one has {upload.size} bytes.",
            {"file": "Too large."},
            extra={"max_file_size": MAX_DOCUMENT_BYTES},
        )
    digest = hashlib.sha256()
    head = b""
    for chunk in upload.chunks():
        if len(head) < 8:
            head += chunk[:8]
        digest.update(chunk)
    content_type = next((kind for magic, kind in FILE_SIGNATURES if head.startswith(magic)), None)
    if content_type is None:
        raise ApiError(
            400,
            "UNSUPPORTED_FILE_TYPE",
            "Documents must be PDF, JPEG or PNG files.",
            {"file": "Not a PDF, JPEG or PNG file."},
            extra={"accepted_file_types": ACCEPTED_TYPES},
        )
    with transaction.atomic():
        address = owned_address(ctx.project, address_id, lock=True)
        if address.submitted_at is not None or address.status != Address.PENDING:
            raise ApiError(409, "ALREADY_SUBMITTED", f"Address {address.id} was submitted; its documents are final.")
        document = AddressDocument.objects.create(
            address=address,
            document_type=document_type,
            filename=(upload.name or "document")[:255],
            content_type=content_type,
            size=upload.size,
            sha256=digest.hexdigest(),
            uploaded_at=ctx.now,
        )
    return json_response(document_json(document), 201)


def submit(ctx: Ctx, address_id: str) -> HttpResponse:
    with transaction.atomic():
        address = owned_address(ctx.project, address_id, lock=True)
        if address.submitted_at is not None or address.status != Address.PENDING:
            raise ApiError(409, "ALREADY_SUBMITTED", f"Address {address.id} was already submitted ({address.status}).")
        have = set(address.documents.values_list("document_type", flat=True))
        missing = [t for t in required_documents(inventory.COUNTRIES[address.country_code]) if t not in have]
        if missing:
            raise ApiError(
                409,
                "DOCUMENTS_REQUIRED",
                f"Upload {' and '.join(missing)} before submitting address {address.id}.",
                {"documents": "Missing: " + ", ".join(missing)},
                extra={"missing_documents": missing},
            )
        delay = Project.objects.values_list("address_verify_delay", flat=True).get(pk=ctx.project.pk)
        address.submitted_at = address.updated_at = ctx.now
        address.verify_at = ctx.now + delay
        address.save(update_fields=["submitted_at", "updated_at", "verify_at"])
    # A zero delay is already due: show the outcome at once, as the next call would.
    billing.settle_addresses(ctx.now)
    address.refresh_from_db()
    return json_response(status_json(address))


def check_status(ctx: Ctx, address_id: str) -> HttpResponse:
    # Settlement at the start of the call already advanced it if its time has come.
    return json_response(status_json(owned_address(ctx.project, address_id)))


def decide(project: Project, address_id: str, status: str, reason: str, moment: datetime) -> Address:
    """Control: set an address's outcome now, whatever its state, and cancel any scheduled review."""
    with transaction.atomic():
        address = owned_address(project, address_id, lock=True)
        address.status = status
        address.reason = reason
        address.updated_at = moment
        address.verify_at = None
        address.save(update_fields=["status", "reason", "updated_at", "verify_at"])
    return address


requirements_view = route(API, GET=requirements)
documents_view = route(API, POST=upload_document)
submit_view = route(API, POST=submit)
check_status_view = route(API, POST=check_status)
