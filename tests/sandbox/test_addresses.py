"""The address verification workflow: requirements, create, documents, submit, check-status, the clock."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from sandbox.seed import DEMO_KEY, OTHER_KEY, READ_KEY

from .conftest import CONTROL, assert_error

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n" + b"x" * 500
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 100

NL_ADDRESS = {
    "street_address": "Keizersgracht 123",
    "city": "Amsterdam",
    "postal_code": "1015 CJ",
    "country_code": "NL",
    "contact_name": "Anna de Vries",
    "contact_email": "anna@example.nl",
    "contact_phone": "+31201234567",
}
DE_ADDRESS = NL_ADDRESS | {"city": "Berlin", "postal_code": "10115", "country_code": "DE", "city_code": "030"}


def upload(api, address_id, content=PDF, document_type="government_id", name="id.pdf", key=DEMO_KEY):
    data = {"file": SimpleUploadedFile(name, content, content_type="application/octet-stream")}
    if document_type is not None:
        data["document_type"] = document_type
    return api.client.post(
        f"/sandbox/v1/addresses/{address_id}/documents", data, headers={"Authorization": f"Bearer {key}"}
    )


def create(api, body=None) -> int:
    response = api.post("addresses", body or NL_ADDRESS)
    assert response.status_code == 201, response.content
    return response.json()["address_id"]


def submitted(api, body=None) -> int:
    address_id = create(api, body)
    assert upload(api, address_id).status_code == 201
    if (body or NL_ADDRESS)["country_code"] == "DE":
        assert upload(api, address_id, document_type="business_registration").status_code == 201
    assert api.post(f"addresses/{address_id}/submit").status_code == 200
    return address_id


def status_of(api, address_id) -> dict:
    response = api.post(f"addresses/{address_id}/check-status")
    assert response.status_code == 200, response.content
    return response.json()


# --- requirements -----------------------------------------------------------------------------------


def test_requirements_say_what_nl_needs(api):
    response = api.get("addresses/requirements?country=NL")
    assert response.status_code == 200
    assert response.json() == {
        "country_code": "NL",
        "country_name": "Netherlands",
        "requires_address": True,
        "local_presence": False,
        "city_code_required": False,
        "documents": [
            {"type": "government_id", "description": response.json()["documents"][0]["description"], "required": True},
            {
                "type": "business_registration",
                "description": response.json()["documents"][1]["description"],
                "required": False,
            },
        ],
        "accepted_file_types": ["application/pdf", "image/jpeg", "image/png"],
        "max_file_size": 10 * 1024 * 1024,
    }


def test_requirements_for_a_local_presence_country_need_both_documents_and_a_city_code(api):
    body = api.get("addresses/requirements?country=de").json()
    assert body["country_code"] == "DE" and body["local_presence"] and body["city_code_required"]
    assert [d["required"] for d in body["documents"]] == [True, True]


def test_requirements_for_the_us_need_no_address_for_search(api):
    body = api.get("addresses/requirements?country=US").json()
    assert body["requires_address"] is False and body["city_code_required"] is False


@pytest.mark.parametrize("query", ["?country=XX", "?country=", "", "?country=Netherlands"])
def test_requirements_refuse_an_unknown_country(api, query):
    body = assert_error(api.get("addresses/requirements" + query), 400, "VALIDATION_ERROR")
    assert "country" in body["details"]


# --- create -----------------------------------------------------------------------------------------


def test_an_address_is_created_pending_and_unsubmitted(api):
    response = api.post("addresses", NL_ADDRESS | {"company_name": "Voorbeeld B.V."})
    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    address_id = response.json()["address_id"]
    assert address_id > 12
    status = status_of(api, address_id)
    assert status == {
        "address_id": address_id,
        "status": "pending",
        "reason": None,
        "submitted_at": None,
        "updated_at": status["updated_at"],
    }
    listed = {a["id"]: a for a in api.get("addresses").json()["addresses"]}[address_id]
    assert listed["company_name"] == "Voorbeeld B.V." and listed["city_code"] is None


def test_creating_an_address_needs_every_required_field(api):
    body = assert_error(api.post("addresses", {}), 400, "VALIDATION_ERROR")
    assert set(body["details"]) == {
        "street_address",
        "city",
        "postal_code",
        "country_code",
        "contact_name",
        "contact_email",
        "contact_phone",
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("contact_email", "not-an-email"),
        ("contact_phone", "020 123 4567"),
        ("country_code", "XX"),
        ("country_code", 31),
        ("city_code", "Amsterdam"),
        ("city_code", 20),
        ("street_address", "x" * 201),
        ("city", ["Amsterdam"]),
        ("postal_code", "   "),
        ("company_name", "\x00"),
    ],
)
def test_a_bad_field_is_named_in_the_details(api, field, value):
    body = assert_error(api.post("addresses", NL_ADDRESS | {field: value}), 400, "VALIDATION_ERROR")
    assert set(body["details"]) == {field}


def test_a_local_presence_country_needs_a_city_code(api):
    body = {k: v for k, v in DE_ADDRESS.items() if k != "city_code"}
    assert set(assert_error(api.post("addresses", body), 400, "VALIDATION_ERROR")["details"]) == {"city_code"}
    assert api.post("addresses", DE_ADDRESS).status_code == 201


def test_a_read_key_cannot_create_an_address(api):
    assert_error(api.as_key(READ_KEY).post("addresses", NL_ADDRESS), 403, "READ_ONLY_KEY")


# --- documents ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "content_type"), [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg")]
)
def test_a_document_is_uploaded(api, content, content_type):
    address_id = create(api)
    response = upload(api, address_id, content, "business_registration", name="kvk")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body == body | {
        "address_id": address_id,
        "document_type": "business_registration",
        "filename": "kvk",
        "content_type": content_type,
        "size": len(content),
    }
    assert isinstance(body["document_id"], int) and body["uploaded_at"].endswith("Z")


def test_a_document_other_than_pdf_jpeg_or_png_is_refused(api):
    address_id = create(api)
    body = assert_error(upload(api, address_id, b"GIF89a" + b"\0" * 50, name="id.pdf"), 400, "UNSUPPORTED_FILE_TYPE")
    assert body["details"] == {"file": "Not a PDF, JPEG or PNG file."}
    assert_error(api.post(f"addresses/{address_id}/submit"), 409, "DOCUMENTS_REQUIRED")


def test_a_document_over_10_mb_is_refused(api):
    address_id = create(api)
    assert upload(api, address_id, PDF[:9] + b"x" * (10 * 1024 * 1024 - 9)).status_code == 201
    body = assert_error(upload(api, address_id, PDF[:9] + b"x" * (10 * 1024 * 1024 - 8)), 400, "FILE_TOO_LARGE")
    assert body["max_file_size"] == 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("document_type", "content", "field"),
    [("passport", PDF, "document_type"), (None, PDF, "document_type"), ("government_id", b"", "file")],
)
def test_a_bad_upload_is_a_validation_error(api, document_type, content, field):
    address_id = create(api)
    body = assert_error(upload(api, address_id, content, document_type), 400, "VALIDATION_ERROR")
    assert set(body["details"]) == {field}


def test_a_json_body_is_not_an_upload(api):
    address_id = create(api)
    body = assert_error(api.post(f"addresses/{address_id}/documents", {"file": "x"}), 400, "VALIDATION_ERROR")
    assert "file" in body["details"]


@pytest.mark.parametrize("address_id", [12, 9999, "abc"])  # another project's, unknown, not an id
def test_uploading_to_an_address_that_is_not_ours_is_404(api, address_id):
    assert_error(upload(api, address_id), 404, "NOT_FOUND")


def test_no_document_can_be_added_after_submission(api):
    address_id = submitted(api)
    assert_error(upload(api, address_id), 409, "ALREADY_SUBMITTED")


# --- submit and the sandbox clock ------------------------------------------------------------------


def test_submit_needs_a_document(api):
    address_id = create(api)
    body = assert_error(api.post(f"addresses/{address_id}/submit"), 409, "DOCUMENTS_REQUIRED")
    assert body["missing_documents"] == ["government_id"]


def test_a_local_presence_address_needs_both_documents(api):
    address_id = create(api, DE_ADDRESS)
    upload(api, address_id)
    body = assert_error(api.post(f"addresses/{address_id}/submit"), 409, "DOCUMENTS_REQUIRED")
    assert body["missing_documents"] == ["business_registration"]
    upload(api, address_id, PNG, "business_registration")
    assert api.post(f"addresses/{address_id}/submit").status_code == 200


def test_submit_cannot_be_repeated(api):
    address_id = submitted(api)
    assert_error(api.post(f"addresses/{address_id}/submit"), 409, "ALREADY_SUBMITTED")


@pytest.mark.parametrize("address_id", [7, 9, 10])  # verified, pending under review, rejected: all seeded as submitted
def test_a_seeded_address_cannot_be_submitted_again(api, address_id):
    assert_error(api.post(f"addresses/{address_id}/submit"), 409, "ALREADY_SUBMITTED")


def test_submitting_another_projects_address_is_404(api):
    assert_error(api.post("addresses/12/submit"), 404, "NOT_FOUND")
    assert_error(api.post("addresses/12/check-status"), 404, "NOT_FOUND")


def test_a_submitted_address_is_verified_after_ten_minutes_of_sandbox_time(api):
    address_id = create(api)
    upload(api, address_id)
    response = api.post(f"addresses/{address_id}/submit")
    assert response.status_code == 200
    submitted_at = response.json()["submitted_at"]
    assert response.json() == {
        "address_id": address_id,
        "status": "pending",
        "reason": None,
        "submitted_at": submitted_at,
        "updated_at": submitted_at,
    }
    api.advance(seconds=599)
    assert status_of(api, address_id)["status"] == "pending"
    api.advance(seconds=2)
    status = status_of(api, address_id)
    assert status["status"] == "verified" and status["submitted_at"] == submitted_at
    assert status["updated_at"] > submitted_at


def test_the_review_delay_can_be_changed(api):
    assert api.get(CONTROL + "address-verification").json() == {"delay_seconds": 600}
    response = api.put(CONTROL + "address-verification", {"delay_seconds": 3600})
    assert response.json() == {"delay_seconds": 3600}
    address_id = submitted(api)
    api.advance(seconds=1800)
    assert status_of(api, address_id)["status"] == "pending"
    api.advance(seconds=1801)
    assert status_of(api, address_id)["status"] == "verified"


def test_a_zero_delay_verifies_on_submit(api):
    api.put(CONTROL + "address-verification", {"delay_seconds": 0})
    address_id = create(api)
    upload(api, address_id)
    assert api.post(f"addresses/{address_id}/submit").json()["status"] == "verified"


@pytest.mark.parametrize("value", [-1, "600", None, True, 365 * 86400 + 1])
def test_a_bad_delay_is_refused(api, value):
    body = assert_error(api.put(CONTROL + "address-verification", {"delay_seconds": value}), 400, "VALIDATION_ERROR")
    assert "delay_seconds" in body["details"]


def test_reset_restores_the_delay_and_the_listing(api):
    api.put(CONTROL + "address-verification", {"delay_seconds": 5})
    api.post(CONTROL + "addresses-listing", {"enabled": False})
    api.post(CONTROL + "reset")
    assert api.get(CONTROL + "address-verification").json() == {"delay_seconds": 600}
    assert api.get(CONTROL + "addresses-listing").json() == {"enabled": True}
    assert api.get("addresses").status_code == 200


def test_a_verified_address_opens_search_and_purchase_in_its_country(api):
    es = NL_ADDRESS | {"country_code": "ES", "city": "Madrid", "postal_code": "28013", "city_code": "91"}
    address_id = create(api, es)
    upload(api, address_id)
    upload(api, address_id, JPEG, "business_registration")
    api.post(f"addresses/{address_id}/submit")
    assert api.get("phone-numbers/search?country_code=ES").json()["address_required"] is True
    api.advance(seconds=600)
    found = api.search(country_code="ES", city_code="91")
    assert found
    body = {"phone_number": found[0]["phone_number"], "country_code": "ES", "address_id": address_id, "city_code": "91"}
    assert api.post("phone-numbers", body).status_code == 201


def test_a_pending_address_cannot_buy(api):
    address_id = submitted(api)
    number = "+31204567890"
    body = {"phone_number": number, "country_code": "NL", "address_id": address_id}
    assert_error(api.post("phone-numbers", body), 400, "ADDRESS_NOT_VERIFIED")
    api.advance(seconds=600)
    assert api.post("phone-numbers", body).status_code == 201


def test_check_status_is_a_write_call(api):
    assert_error(api.as_key(READ_KEY).post("addresses/7/check-status"), 403, "READ_ONLY_KEY")


def test_check_status_of_a_seeded_rejected_address_gives_the_reason(api):
    status = status_of(api, 10)
    assert status["status"] == "rejected" and status["reason"]


# --- control: approve, reject, expire --------------------------------------------------------------------


def test_an_address_can_be_approved_now(api):
    address_id = submitted(api)
    response = api.post(CONTROL + f"addresses/{address_id}/approve")
    assert response.status_code == 200 and response.json()["status"] == "verified"
    assert status_of(api, address_id)["status"] == "verified"


def test_an_address_can_be_approved_partially(api):
    response = api.post(CONTROL + "addresses/9/approve", {"status": "partially_verified"})
    assert response.json()["status"] == "partially_verified"
    assert api.search(country_code="FR")


def test_approve_refuses_another_status(api):
    body = assert_error(api.post(CONTROL + "addresses/9/approve", {"status": "rejected"}), 400, "VALIDATION_ERROR")
    assert "status" in body["details"]


def test_an_address_can_be_rejected_with_a_reason_and_stays_rejected(api):
    address_id = submitted(api)
    response = api.post(CONTROL + f"addresses/{address_id}/reject", {"reason": "Blurry ID"})
    assert response.json() | {"updated_at": None} == {
        "address_id": address_id,
        "status": "rejected",
        "reason": "Blurry ID",
        "submitted_at": response.json()["submitted_at"],
        "updated_at": None,
    }
    api.advance(seconds=3600)  # the scheduled review was cancelled
    assert status_of(api, address_id)["status"] == "rejected"
    assert_error(api.post(f"addresses/{address_id}/submit"), 409, "ALREADY_SUBMITTED")


def test_reject_has_a_default_reason_and_refuses_a_bad_one(api):
    assert api.post(CONTROL + "addresses/9/reject").json()["reason"]
    assert_error(api.post(CONTROL + "addresses/7/reject", {"reason": ""}), 400, "VALIDATION_ERROR")


def test_a_verified_address_can_expire_and_then_cannot_buy(api):
    assert api.post(CONTROL + "addresses/7/expire").json()["status"] == "expired"
    body = {"phone_number": "+31204567890", "country_code": "NL", "address_id": 7}
    assert_error(api.post("phone-numbers", body), 400, "ADDRESS_NOT_VERIFIED")


@pytest.mark.parametrize("action", ["approve", "reject", "expire"])
def test_control_cannot_decide_another_projects_address(api, action):
    assert_error(api.post(CONTROL + f"addresses/12/{action}"), 404, "NOT_FOUND")
    assert api.as_key(OTHER_KEY).post("addresses/12/check-status").json()["status"] == "verified"


# --- the undocumented listing switch ----------------------------------------------------------------------


def test_the_listing_can_be_switched_off_and_on(api):
    assert api.get(CONTROL + "addresses-listing").json() == {"enabled": True}
    assert api.put(CONTROL + "addresses-listing", {"enabled": False}).json() == {"enabled": False}
    assert_error(api.get("addresses"), 404, "NOT_FOUND")
    # Only the listing goes: creating and polling still work.
    address_id = create(api)
    assert status_of(api, address_id)["status"] == "pending"
    assert api.post(CONTROL + "addresses-listing", {"enabled": True}).json() == {"enabled": True}
    assert address_id in {a["id"] for a in api.get("addresses").json()["addresses"]}


def test_the_listing_switch_belongs_to_one_project(api):
    api.put(CONTROL + "addresses-listing", {"enabled": False})
    assert api.as_key(OTHER_KEY).get("addresses").status_code == 200


@pytest.mark.parametrize("value", [None, "false", 0])
def test_the_listing_switch_needs_a_boolean(api, value):
    body = assert_error(api.put(CONTROL + "addresses-listing", {"enabled": value}), 400, "VALIDATION_ERROR")
    assert "enabled" in body["details"]
