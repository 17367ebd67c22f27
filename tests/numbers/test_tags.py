"""Inline tag editing: click to edit, save, cancel; the API's rules checked on the server too."""

import pytest

from tests.helpers import HX


def tags(sandbox, number_id):
    return sandbox.get(f"/v1/phone-numbers/{number_id}").json()["tags"]


@pytest.mark.django_db
def test_the_editor_shows_the_current_tags(support, staffify_sandbox):
    current = tags(staffify_sandbox, 1002)
    html = support.get("/numbers/1002/tags/edit", headers=HX).content.decode()
    assert html.lstrip().startswith('<div id="tags-1002"')
    assert f'value="{", ".join(current)}"' in html
    assert "data-tags-input" in html


@pytest.mark.django_db
def test_it_saves_trimmed_tags(support, staffify_sandbox):
    response = support.post("/numbers/1002/tags", {"tags": "  vip , support ,new-york "}, headers=HX)
    assert response.status_code == 200
    assert tags(staffify_sandbox, 1002) == ["vip", "support", "new-york"]
    html = response.content.decode()
    assert '<span class="tag">vip</span>' in html
    assert "Tags of" in response["HX-Trigger"]


@pytest.mark.django_db
def test_an_empty_field_removes_every_tag(support, staffify_sandbox):
    support.post("/numbers/1002/tags", {"tags": "  "}, headers=HX)
    assert tags(staffify_sandbox, 1002) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "message"),
    [
        (", ".join(f"t{i}" for i in range(21)), "At most 20 tags: this has 21."),
        ("ok, " + "x" * 51, "is longer than 50 characters."),
        ("a,,b", "Remove the empty tag"),
        ("a, b,", "Remove the empty tag"),
        ("sales, Sales", "appears twice."),
    ],
)
def test_it_refuses_what_staffify_would_refuse_and_says_why_beside_the_field(support, staffify_sandbox, text, message):
    before = tags(staffify_sandbox, 1002)
    response = support.post("/numbers/1002/tags", {"tags": text}, headers=HX)
    html = response.content.decode()
    assert response.status_code == 422
    assert message in html.replace("&#x27;", "'")
    assert 'aria-invalid="true"' in html
    assert tags(staffify_sandbox, 1002) == before


@pytest.mark.django_db
def test_twenty_tags_of_fifty_characters_are_fine(support, staffify_sandbox):
    wanted = [f"{i:02d}" + "x" * 48 for i in range(20)]
    support.post("/numbers/1002/tags", {"tags": ", ".join(wanted)}, headers=HX)
    assert tags(staffify_sandbox, 1002) == wanted


@pytest.mark.django_db
def test_cancel_shows_the_original_tags_without_calling_staffify(support, staffify_sandbox):
    from numbers_app import staffify

    with staffify.track_calls() as stats:
        html = support.get("/numbers/1002/tags/view", {"original": "a, b"}, headers=HX).content.decode()
    assert stats.calls == 0
    assert '<span class="tag">a</span> <span class="tag">b</span>' in html


@pytest.mark.django_db
def test_the_tags_button_is_named_by_its_tags_then_its_number(support, mirrored):
    """Its name starts with what it shows (the tags) and carries the number: never a bare "Edit tags"."""
    from numbers_app.text.presenters import format_phone

    e164 = mirrored.get("/v1/phone-numbers/1002").json()["phone_number"]
    cancelled = support.get("/numbers/1002/tags/view", {"original": "a, b"}, headers=HX).content.decode()
    saved = support.post("/numbers/1002/tags", {"tags": "a, b", "original": ""}, headers=HX).content.decode()
    for html in (cancelled, saved):
        assert "aria-label" not in html
        assert f'<span class="vh">: edit the tags of {format_phone(e164)}</span>' in html


@pytest.mark.django_db
def test_tags_are_escaped(support, staffify_sandbox):
    response = support.post("/numbers/1002/tags", {"tags": "<script>alert(1)</script>"}, headers=HX)
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.django_db
def test_a_staffify_error_is_shown_in_the_editor(support, staffify_sandbox):
    staffify_sandbox.post(
        "/control/faults", json={"status": 500, "count": 1, "path_prefix": "/v1/phone-numbers/1002", "method": "PATCH"}
    )
    response = support.post("/numbers/1002/tags", {"tags": "new"}, headers=HX)
    html = response.content.decode()
    assert "Staffify is having trouble (HTTP 500)." in html
    assert 'value="new"' in html  # what the user typed is not lost


@pytest.mark.django_db
def test_a_team_lead_cannot_edit_tags(lead, staffify_sandbox):
    before = tags(staffify_sandbox, 1002)
    assert lead.post("/numbers/1002/tags", {"tags": "x"}, headers=HX).status_code == 403
    assert lead.get("/numbers/1002/tags/edit", headers=HX).status_code == 403
    assert tags(staffify_sandbox, 1002) == before


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/numbers/1001/tags/edit", "/numbers/1001/release"])
def test_a_failed_read_behind_a_control_is_said_in_its_row_with_the_request_id(ops, staffify_sandbox, path):
    staffify_sandbox.post("/control/faults", json={"status": 503, "count": 1, "path_prefix": "/v1/phone-numbers/1001"})
    response = ops.get(path, headers=HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#number-1001" and response["HX-Reswap"] == "outerHTML"
    assert html.lstrip().startswith('<tr id="number-1001"')
    assert "Staffify is having trouble (HTTP 503)" in html and "Request id req_" in html
