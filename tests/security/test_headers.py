"""Security headers on internal and public pages, and no inline script, handler or style anywhere
in the templates (the Content-Security-Policy allows none)."""
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loaders.app_directories import get_app_template_dirs
from django.test import Client
from django.urls import reverse

from tests.commitments.publishing import published
from tests.conftest import login

EXPECTED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}

# <script …>body</script> with a non-empty body, unless it is a data block (json_script).
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
# A start tag, its attributes kept whole even when a quoted value holds ">".
TAG = re.compile(r"""<([a-z][a-z0-9-]*)((?:"[^"]*"|'[^']*'|[^'">])*)>""", re.IGNORECASE)
QUOTED = re.compile(r""""[^"]*"|'[^']*'""")
HANDLER = re.compile(r"(?:^|\s)(on[a-z]+)\s*=", re.IGNORECASE)
STYLE_ATTR = re.compile(r"(?:^|\s)style\s*=", re.IGNORECASE)
JS_URL = re.compile(r"""(?:^|\s)(?:href|src|action|formaction|data)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)
STYLE_TAG = re.compile(r"<style\b", re.IGNORECASE)


def csp_directives(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    parts = [p.strip().split(None, 1) for p in header.split(";") if p.strip()]
    return {p[0]: p[1] if len(p) > 1 else "" for p in parts}


def inline_problems(html: str) -> list[str]:
    """What in `html` the policy would block: inline scripts, on*= handlers, javascript: URLs,
    style attributes and <style> elements."""
    problems = []
    for attrs, body in SCRIPT.findall(html):
        is_data = re.search(r"""type\s*=\s*["']application/(?:ld\+)?json["']""", attrs, re.IGNORECASE)
        if body.strip() and not is_data:
            problems.append(f"inline script: {body.strip()[:60]!r}")
    for tag in TAG.finditer(html):
        attrs = tag.group(2)
        names = QUOTED.sub('""', attrs)  # attribute names only: values may say anything
        problems += [f"event handler: <{tag.group(1)} {m.group(1)}=" for m in HANDLER.finditer(names)]
        if STYLE_ATTR.search(names):
            problems.append(f"style attribute on <{tag.group(1)}>")
        if JS_URL.search(attrs):
            problems.append(f"javascript: URL on <{tag.group(1)}>")
    problems += ["<style> element" for _ in STYLE_TAG.finditer(html)]
    return problems


def assert_hardened(response):
    assert csp_directives(response) == EXPECTED_CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    if "html" in response.headers.get("Content-Type", ""):
        assert inline_problems(response.content.decode()) == []


# --- the templates ---------------------------------------------------------------------------

def html_templates() -> list[Path]:
    """The project's own templates; PDF templates are never served to a browser but are checked too."""
    dirs = [Path(d) for d in settings.TEMPLATES[0]["DIRS"]]
    dirs += [Path(d) for d in get_app_template_dirs("templates") if str(settings.BASE_DIR) in str(d)
             and ".venv" not in str(d)]
    return sorted(p for d in dirs for p in d.rglob("*.html"))


def test_the_template_scan_finds_templates_and_recognises_what_csp_blocks():
    assert len(html_templates()) > 50
    bad = ('<script>alert(1)</script><a href="javascript:void(0)">x</a><button onclick="go()">'
           '<div style="color:red"></div><style>p{}</style>')
    assert len(inline_problems(bad)) == 5
    good = ('<script src="/static/js/app.js"></script><script id="d" type="application/json">{"a": 1}</script>'
            '<a data-confirm="x" href="/on=1">x</a><p>onclick=</p>'
            '<input value="&lt;img src=x onerror=alert(1)&gt;" title=\'a style="b" > onload=c\'>')
    assert inline_problems(good) == []


@pytest.mark.parametrize("path", html_templates(), ids=lambda p: str(p.relative_to(settings.BASE_DIR)))
def test_no_template_has_inline_script_handlers_or_styles(path):
    assert inline_problems(path.read_text(encoding="utf-8")) == []


# --- the headers -----------------------------------------------------------------------------

def test_public_pages_send_the_security_headers(world):
    c = published(world, member=world.member_a)
    client = Client()
    for url in (reverse("portal:noticeboard"), reverse("portal:public_org", args=[world.branch_a.pk]),
                reverse("portal:public_commitment", args=[c.pk]),
                reverse("commitments:suggest", args=[world.branch_a.pk]), reverse("login")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_hardened(response)


def test_internal_pages_send_the_security_headers(world):
    c = published(world, member=world.member_a)
    client = login(Client(), world.secretary_a)
    for url in (reverse("home"), reverse("portal:coverage"), reverse("commitments:detail", args=[c.pk]),
                reverse("commitments:progress", args=[c.pk]), reverse("commitments:list")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_hardened(response)


def test_error_pages_and_redirects_send_the_security_headers(world):
    client = Client()
    assert_hardened(client.get("/no-such-page/"))
    assert_hardened(client.get(reverse("portal:coverage")))  # redirect to the login page


def test_downloads_send_nosniff_and_the_policy(world):
    client = login(Client(), world.secretary_a)
    response = client.get(reverse("portal:coverage_xlsx"))
    assert response.status_code == 200
    assert_hardened(response)


def test_the_policy_allows_no_inline_script_and_frames_nowhere():
    policy = settings.SECURE_CSP
    for directive in ("script-src", "style-src", "default-src"):
        assert "'unsafe-inline'" not in policy[directive] and "'unsafe-eval'" not in policy[directive]
    assert policy["frame-ancestors"] == ["'none'"] and settings.X_FRAME_OPTIONS == "DENY"


def _directives(response) -> set[str]:
    return {part.strip().split("=")[0] for part in response.get("Cache-Control", "").split(",") if part.strip()}


def test_every_response_to_a_logged_in_user_is_private_and_not_stored(world):
    c = published(world, member=world.member_a)
    client = login(Client(), world.secretary_a)
    for url in (reverse("home"), reverse("orgs:member_list"), reverse("orgs:member_detail", args=[world.member_a.pk]),
                reverse("commitments:detail", args=[c.pk]), reverse("commitments:list"),
                # Public pages too, when the visitor is signed in (the page differs), and a redirect.
                reverse("portal:public_commitment", args=[c.pk]), reverse("login")):
        response = client.get(url)
        assert response.status_code in (200, 302), url
        assert {"private", "no-store"} <= _directives(response), url
        assert "public" not in _directives(response), url
    download = client.get(reverse("portal:coverage_xlsx"))
    assert {"private", "no-store"} <= _directives(download)
    assert download["Content-Disposition"].startswith("attachment;")


def test_anonymous_public_pages_keep_their_public_caching(world, settings):
    settings.PUBLIC_PAGE_CACHE = True
    c = published(world, member=world.member_a)
    response = Client().get(reverse("portal:public_commitment", args=[c.pk]))
    assert response.status_code == 200
    assert "no-store" not in _directives(response)
    assert "public" in _directives(response)
