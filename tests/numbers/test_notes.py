"""Names and notes on numbers: kept by the dashboard (Staffify has no such field), edited in place like
tags by the roles that may edit tags, searchable in the owned list, in the billing CSV and the audit
log, and kept through a release and a reclaim. No Staffify call to save or show one."""

import csv
import io

import pytest

from numbers_app import staffify
from numbers_app.models import AuditEntry, NumberNote
from tests.helpers import HX, unassigned_active

pytestmark = pytest.mark.django_db


def save(client, number_id, name, note=""):
    return client.post(f"/p/main/numbers/{number_id}/note", {"name": name, "note": note}, headers=HX)


def test_a_search_counts_a_note_another_process_saved(support, mirrored):
    """The list's count of a search is cached per notes' version; a note saved by another process (here
    written straight to the table, as that process's own cache would not tell this one) is counted."""
    assert "No number matches these filters." in support.get("/p/main/?q=zanzibar").content.decode()
    NumberNote.objects.create(staffify_id=1002, name="Zanzibar office")
    html = support.get("/p/main/?q=zanzibar").content.decode()
    assert "1 number matches these filters" in html and "Zanzibar office" in html


def test_support_saves_a_name_and_note_in_place_with_no_staffify_call(support, mirrored):
    with staffify.track_calls() as stats:
        editor = support.get("/p/main/numbers/1002/note/edit", headers=HX).content.decode()
        response = save(support, 1002, "  Front desk,   Amsterdam ", "Kept for the <spring> campaign")
    assert stats.calls == 0
    assert editor.lstrip().startswith('<div id="note-1002"') and "Staffify has no name or note field" in editor
    html = response.content.decode()
    assert response.status_code == 200
    assert "Front desk, Amsterdam" in html and "&lt;spring&gt;" in html and "<spring>" not in html
    assert "Name and note of" in response["HX-Trigger"]
    assert "number-changed" in response["HX-Trigger"]  # the number's page refreshes its facts and history
    note = NumberNote.objects.get(staffify_id=1002)
    assert (note.name, note.note) == ("Front desk, Amsterdam", "Kept for the <spring> campaign")
    entry = AuditEntry.objects.get(action=AuditEntry.Action.NOTE)
    assert entry.before == {"name": "", "note": ""}
    assert entry.after == {"name": "Front desk, Amsterdam", "note": "Kept for the <spring> campaign"}
    assert entry.outcome == "ok" and entry.number_id == 1002 and entry.username == "support"
    audit = support.get("/p/main/audit/").content.decode()
    assert "name: “—” → “Front desk, Amsterdam”" in audit


def test_saving_the_same_again_writes_no_audit_entry_and_empty_removes_it(support, mirrored):
    save(support, 1002, "Sales line")
    save(support, 1002, "Sales line")
    assert AuditEntry.objects.filter(action="note").count() == 1
    save(support, 1002, "", "")
    assert not NumberNote.objects.filter(staffify_id=1002).exists()
    assert AuditEntry.objects.filter(action="note").count() == 2


def test_a_lead_sees_notes_but_cannot_edit_them_and_the_refusal_is_audited(lead, mirrored):
    NumberNote.objects.create(staffify_id=1002, name="Reception")
    html = lead.get("/p/main/").content.decode()
    assert "Reception" in html and "add a name or note" not in html
    response = save(lead, 1002, "Mine now")
    assert response.status_code == 403
    assert NumberNote.objects.get(staffify_id=1002).name == "Reception"
    assert AuditEntry.objects.filter(action="note", outcome="denied").exists()
    assert lead.get("/p/main/numbers/1002/note/edit", headers=HX).status_code == 403


def test_too_long_input_is_said_beside_the_field(support, mirrored):
    response = save(support, 1002, "x" * 81)
    assert response.status_code == 422
    assert "A name has at most 80 characters." in response.content.decode()
    assert not NumberNote.objects.exists()
    assert AuditEntry.objects.filter(action="note", outcome="invalid").exists()


def test_the_owned_list_search_finds_names_and_notes_and_digits_still_work(support, mirrored):
    save(support, 1002, "Front desk", "Amsterdam office")
    support.get("/p/main/")  # the header's balance, read once a minute, is not the list's
    with staffify.track_calls() as stats:
        by_word = support.get("/p/main/?q=amsterdam").content.decode()
        by_name = support.get("/p/main/?q=FRONT+desk").content.decode()
    assert stats.calls == 0
    assert 'id="number-1002"' in by_word and 'id="number-1002"' in by_name
    assert by_word.count('<tr id="number-') == 1
    none = support.get("/p/main/?q=nowhere-at-all").content.decode()
    assert '<tr id="number-' not in none
    digits = support.get("/p/main/?q=1002").status_code  # digits still search the number itself
    assert digits == 200
    assert support.get("/p/main/?q=" + "1" * 16).status_code in (200, 400)


def test_a_note_survives_release_and_reclaim(ops, mirrored):
    number_id = unassigned_active(mirrored)
    save(ops, number_id, "Spring campaign", "keep until May")
    assert ops.post(f"/p/main/numbers/{number_id}/release/confirm", headers=HX).status_code == 200
    pending = ops.get("/p/main/?status=pending_release").content.decode()
    assert "Spring campaign" in pending
    response = ops.post(f"/p/main/numbers/{number_id}/reclaim", headers=HX)
    assert response.status_code == 200
    assert "Spring campaign" in response.content.decode()  # the refreshed row carries it
    assert NumberNote.objects.get(staffify_id=number_id).note == "keep until May"
    page = ops.get(f"/p/main/numbers/{number_id}/").content.decode()
    assert "Spring campaign" in page.split('id="note-facts"')[1].split("</dd>")[0]
    assert "Spring campaign" in page.split(f'id="note-{number_id}"')[1].split("</div>")[0]  # the row's cell too


def test_the_billing_csv_carries_name_and_note(lead, mirrored):
    NumberNote.objects.create(staffify_id=1002, name="=Reception", note="line one\nline two")
    body = b"".join(lead.get("/p/main/billing/?format=csv").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    found = next(r for r in rows if r["name (kept by the dashboard)"])
    assert found["name (kept by the dashboard)"] == "'=Reception"  # a cell that could be a formula is defused
    assert found["note (kept by the dashboard)"] == "line one\nline two"


def test_the_note_cell_escapes_everything():
    from numbers_app.text.row_html import note_cell

    html = note_cell(7, '<script>"x"</script>', "<img src=x onerror=alert(1)>", True)
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;&quot;x&quot;&lt;/script&gt;" in html
    assert note_cell(7, "", "", False) == '<div id="note-7" class="note-cell"></div>\n'
