"""The address workflow's calls: what is sent, how the undocumented answers are read, what is retried."""

import json

import httpx
import pytest

from numbers_app import staffify
from tests.staffify.conftest import Script, reply

NEW = {
    "street_address": "Herengracht 1",
    "city": "Amsterdam",
    "postal_code": "1015 BA",
    "country_code": "NL",
    "contact_name": "Ada",
    "contact_email": "ada@example.com",
    "contact_phone": "+31201234567",
}


def test_requirements_asks_for_the_country_and_reads_the_documents(make_client):
    answer = {
        "country_code": "DE",
        "country_name": "Germany",
        "city_code_required": True,
        "documents": [
            {"type": "government_id", "description": "A passport", "required": True},
            {"type": "business_registration", "required": False},
        ],
        "accepted_file_types": ["application/pdf"],
        "max_file_size": 1000,
    }
    script = Script(reply(200, answer))
    found = make_client(script).address_requirements("DE")
    request = script.requests[-1]
    assert (request.method, request.url.path, dict(request.url.params)) == (
        "GET",
        "/v1/addresses/requirements",
        {"country": "DE"},
    )
    assert found.required_documents == ["government_id"]
    assert (found.accepted_file_types, found.max_file_size, found.city_code_required) == (
        ("application/pdf",),
        1000,
        True,
    )


def test_requirements_without_limits_fall_back_to_the_guides_limits(make_client):
    found = make_client(Script(reply(200, {"country": "FR", "documents": ["government_id"]}))).address_requirements(
        "FR"
    )
    assert found.country_code == "FR"
    assert found.required_documents == ["government_id"]
    assert found.accepted_file_types == ("application/pdf", "image/jpeg", "image/png")
    assert found.max_file_size == 10 * 1024 * 1024


def test_requirements_without_a_country_is_an_unexpected_answer(make_client):
    with pytest.raises(staffify.StaffifyResponseError, match="country_code"):
        make_client(Script(reply(200, {"documents": []}))).address_requirements("NL")


def test_create_address_posts_the_documented_fields(make_client):
    script = Script(reply(201, {"address_id": 13, "status": "pending"}))
    created = make_client(script).create_address(**NEW, company_name="Acme", city_code="020")
    request = script.requests[-1]
    assert (request.method, request.url.path) == ("POST", "/v1/addresses")
    assert json.loads(request.content) == {**NEW, "company_name": "Acme", "city_code": "020"}
    assert (created.address_id, created.status) == (13, "pending")


def test_create_address_leaves_out_empty_optional_fields(make_client):
    script = Script(reply(201, {"address_id": 13}))
    created = make_client(script).create_address(**NEW, company_name="", city_code=None)
    assert json.loads(script.requests[-1].content) == NEW
    assert created.status is None


def test_create_address_accepts_an_id_under_id(make_client):
    assert make_client(Script(reply(201, {"id": 14}))).create_address(**NEW).address_id == 14


@pytest.mark.parametrize("failure", [reply(503, {"code": "UNAVAILABLE"}), httpx.ConnectError])
def test_create_address_is_sent_once(make_client, failure):
    script = Script(failure, reply(201, {"address_id": 13}))
    with pytest.raises(staffify.StaffifyError):
        make_client(script, max_retries=3).create_address(**NEW)
    assert len(script.requests) == 1


def test_upload_sends_multipart_with_the_file_and_its_type(make_client):
    script = Script(reply(201, {"document_id": 5, "filename": "id.pdf", "size": 9}))
    document = make_client(script).upload_address_document(
        13, document_type="government_id", filename="id.pdf", content=b"%PDF-1.4\n", content_type="application/pdf"
    )
    request = script.requests[-1]
    assert (request.method, request.url.path) == ("POST", "/v1/addresses/13/documents")
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    content = request.content
    assert b'name="document_type"\r\n\r\ngovernment_id' in content
    assert b'name="file"; filename="id.pdf"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n' in content
    assert (document.address_id, document.document_type, document.document_id) == (13, "government_id", 5)


def test_upload_takes_an_empty_answer_as_accepted(make_client):
    document = make_client(Script(reply(204))).upload_address_document(
        13, document_type="government_id", filename="a.png", content=b"\x89PNG\r\n\x1a\n", content_type="image/png"
    )
    assert (document.address_id, document.document_type) == (13, "government_id")


def test_upload_is_sent_once(make_client):
    script = Script(reply(502), reply(201, {}))
    with pytest.raises(staffify.ServerError):
        make_client(script, max_retries=3).upload_address_document(
            13, document_type="government_id", filename="a.pdf", content=b"%PDF-", content_type="application/pdf"
        )
    assert len(script.requests) == 1


def test_submit_reads_the_status_object(make_client):
    answer = {"address_id": 13, "status": "pending", "reason": None, "submitted_at": "2026-01-02T03:04:05Z"}
    script = Script(reply(200, answer))
    status = make_client(script).submit_address(13)
    assert (script.requests[-1].method, script.requests[-1].url.path) == ("POST", "/v1/addresses/13/submit")
    assert status.status == "pending" and status.submitted_at.isoformat() == "2026-01-02T03:04:05+00:00"


def test_submit_is_sent_once(make_client):
    script = Script(reply(503), reply(200, {"status": "pending"}))
    with pytest.raises(staffify.ServerError):
        make_client(script, max_retries=3).submit_address(13)
    assert len(script.requests) == 1


def test_submit_conflicts_keep_their_code(make_client):
    script = Script(reply(409, {"code": "DOCUMENTS_REQUIRED", "message": "Upload first"}))
    with pytest.raises(staffify.ConflictError) as caught:
        make_client(script).submit_address(13)
    assert caught.value.code == "DOCUMENTS_REQUIRED"


def test_check_status_is_retried_like_a_read(make_client, sleeps):
    script = Script(reply(503), reply(200, {"status": "verified", "updated_at": "2026-01-02T03:04:05Z"}))
    status = make_client(script, max_retries=2).check_address_status(13)
    assert [(r.method, r.url.path) for r in script.requests] == [("POST", "/v1/addresses/13/check-status")] * 2
    assert len(sleeps) == 1
    assert status.address_id == 13 and status.usable_for_purchase


def test_check_status_reads_a_status_under_address(make_client):
    answer = {"address": {"id": 13, "status": "rejected", "reason": "Blurry", "submitted_at": "soon"}}
    status = make_client(Script(reply(200, answer))).check_address_status(13)
    assert (status.address_id, status.status, status.reason, status.submitted_at) == (13, "rejected", "Blurry", None)


def test_check_status_without_a_status_is_an_unexpected_answer(make_client):
    with pytest.raises(staffify.StaffifyResponseError, match="'status' is missing"):
        make_client(Script(reply(200, {"address_id": 13}))).check_address_status(13)


def test_check_status_of_an_unknown_address_is_not_found(make_client):
    with pytest.raises(staffify.NotFoundError):
        make_client(Script(reply(404, {"code": "NOT_FOUND", "message": "No such address"}))).check_address_status(99)


@pytest.mark.parametrize("bad_id", ["../credits", "13/submit", None, True])
def test_address_ids_cannot_change_the_path(make_client, bad_id):
    script = Script(reply(200, {"status": "verified"}))
    with pytest.raises(TypeError):
        make_client(script).check_address_status(bad_id)
    assert script.requests == []
