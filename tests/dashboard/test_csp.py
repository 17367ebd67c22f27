"""No inline script or style anywhere: the Content-Security-Policy forbids them, and so do we."""

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.mark.django_db
def test_every_page_sends_a_strict_policy(ops, staffify_sandbox):
    for path in (
        "/p/main/",
        "/p/main/buy/",
        "/p/main/numbers/1001/",
        "/p/main/audit/",
        "/p/main/billing/",
        "/account/preferences",
        "/accounts/login/",
    ):
        policy = ops.get(path)["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert re.search(r"script-src 'self' 'nonce-[\w+/=-]+'", policy)


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_hold_no_inline_script_or_style(template):
    text = template.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>"
    assert "<style" not in text
    assert not re.search(r"\sstyle=", text)
    assert not re.search(r"\son[a-z]+=", text), "inline event handler"
    assert "hx-on" not in text


@pytest.mark.django_db
def test_htmx_is_served_from_here_with_the_nonce(ops, staffify_sandbox):
    response = ops.get("/p/main/")  # the header and the page of one response: each response has its own nonce
    html = response.content.decode()
    policy = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])
    assert policy
    htmx = re.search(r'<script src="/static/django_htmx/htmx-2\.min\.js[^"]*"[^>]*nonce="([^"]+)"', html)
    assert htmx
    assert htmx.group(1) == policy.group(1), "the script's nonce is not the one the policy allows"
    assert set(re.findall(r'nonce="([^"]+)"', html)) == {policy.group(1)}
    assert "https://" not in re.sub(r"https://api\.staffifyai\.com", "", html)  # no CDN
