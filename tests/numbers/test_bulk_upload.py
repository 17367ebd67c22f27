"""Changes from a CSV file: previewed against the mirror with every problem's line number, then run
as a job; bad files get a clear message, never a 500."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from numbers_app import staffify
from numbers_app.bulk import files as bulk_files
from numbers_app.models import BulkJob, MirrorAgent

from .bulking import run_job, sales


def upload(client, text: str | bytes, name="changes.csv"):
    data = text.encode() if isinstance(text, str) else text
    return client.post("/p/main/bulk/upload", {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


@pytest.mark.django_db
def test_a_good_file_is_previewed_then_run(support, mirrored):
    a, b, c = [r for r in sales() if r.last_status == "active"][:3]
    agent = MirrorAgent.objects.get(staffify_id=110)
    text = (
        "phone_number,agent,tags\n"
        f"{a.phone_number},{agent.name.upper()},vip;emea\n"
        f"{b.phone_number[1:]},none,\n"  # no "+": one is added
        f"{c.phone_number},{c.agent_id or 'none'},{';'.join(c.tags)}\n"  # already so: skipped
    )
    with staffify.track_calls() as stats:
        response = upload(support, text)
    assert response.status_code == 200
    assert not [r for r in stats.requests if r[1].startswith("/phone-numbers")]  # the mirror answers (the
    # page frame reads the balance, as every page does)
    html = response.content.decode()
    changes = 2 + (1 if b.agent_id else 0)
    assert f'<strong data-preview="change">{changes}</strong>' in html
    assert '<strong data-preview="skip">2</strong>' in html
    # 3 numbers, 5 changes: a and c have an agent and tags each; b's empty tags cell leaves its tags
    assert "for 3 numbers (5 changes: a line with an agent and tags is two)" in html
    content = response.context["content"]
    response = support.post("/p/main/bulk/upload", {"content": content, "filename": "changes.csv", "run": "1"})
    job = BulkJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/p/main/jobs/{job.pk}/"
    assert job.action == "file" and "changes.csv" in job.description
    job, _ = run_job(job)
    state = mirrored.get(f"/v1/phone-numbers/{a.staffify_id}").json()
    assert state["agent_id"] == 110 and state["tags"] == ["vip", "emea"]
    assert mirrored.get(f"/v1/phone-numbers/{b.staffify_id}").json()["agent_id"] is None
    assert list(job.rows.values_list("line", flat=True).order_by("position")) == [2, 2, 3, 4, 4][: job.total]


@pytest.mark.django_db
def test_problems_are_listed_with_their_line_numbers(support, mirrored):
    a, b = sales()[:2]
    text = (
        "phone_number,agent,tags\n"
        "+19999999999,101,\n"
        f"{a.phone_number},Nobody Here,\n"
        f"{b.phone_number},,a;;b\n"
        f"{b.phone_number},101,\n"
        "not-a-number,101,\n"
        f"{a.phone_number.replace('+', '+0')},101,\n"
        f"+1415,,{'x' * 51}\n"
    )
    html = upload(support, text).content.decode()
    assert "Line 2: +19999999999 is not a number of this account" in html
    assert "Line 3: no agent “Nobody Here”" in html
    assert "Line 4: an empty tag" in html
    assert "Line 5:" not in html  # line 4 was refused, so line 5 is the number's first use
    assert "Line 6: “not-a-number” is not a phone number" in html
    assert "Line 7: “+0" in html and "Line 8: “+1415”" in html


@pytest.mark.django_db
def test_a_repeated_number_is_refused_with_the_first_line(support, mirrored):
    a = sales()[0]
    html = upload(support, f"phone_number,agent\n{a.phone_number},101\n{a.phone_number},102\n").content.decode()
    assert f"Line 3: {a.phone_number} appears again (first on line 2)" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (b"", "Choose a CSV file"),
        (b"number,agent\n+14155550100,101\n", "must name the columns"),
        (b"phone_number\n+14155550100\n", "must name the columns"),
        (b"phone_number,agent\n", "no lines under them"),
        (b'phone_number,agent\n"+1415,101\n', "not valid CSV"),
        (b"phone_number,agent\n" + b"+14155550100,101\n" * 70_000, "larger than"),
    ],
)
def test_bad_files_get_a_clear_message(support, mirrored, data, message):
    response = upload(support, data) if data else support.post("/p/main/bulk/upload", {})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not BulkJob.objects.exists()


def test_tags_cells_use_semicolons_and_a_dash_clears():
    assert bulk_files.parse_tags("sales; emea") == (["sales", "emea"], "")
    assert bulk_files.parse_tags("-") == ([], "")
    assert bulk_files.parse_tags(";".join(f"t{i}" for i in range(21)))[1] == "21 tags: Staffify allows at most 20"
    assert "appears twice" in bulk_files.parse_tags("a;A")[1]


@pytest.mark.django_db
def test_a_role_that_may_not_make_the_changes_cannot_run_the_file(lead, mirrored):
    a = sales()[0]
    html = upload(lead, f"phone_number,agent\n{a.phone_number},101\n").content.decode()
    assert "cannot assign agents" in html
    content = f"phone_number,agent\n{a.phone_number},101\n"
    assert lead.post("/p/main/bulk/upload", {"content": content, "run": "1"}).status_code == 403
    assert not BulkJob.objects.exists()
