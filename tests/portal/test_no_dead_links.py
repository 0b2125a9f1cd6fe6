"""No link leads nowhere: every demo role follows every link on every page reachable from its home
page (and the public follows every link from the noticeboard), and none answers 404 or 500.

Links are those of <a href> on the site; downloads (PDF, Excel, attachments) are requested too, so
a link to a file the user may not have fails as well. Pages are read with GET only (a GET never
writes), each address once per role; query strings count, so filters and pages are followed."""
import io
import re
from collections import deque
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

User = get_user_model()
ROLES = ["admin", "security", "auditor", "reviewer", "city_secretary", "dw_secretary", "zb_secretary",
         "zb_staff", "zb2_secretary", "member", "member2"]
HREF = re.compile(r'<a\b[^>]*\bhref="([^"#]+)', re.I)
# Leaving the site, signing out, or a page of a list already followed many times: not followed.
SKIP = re.compile(r"^(mailto:|tel:|https?://(?!testserver)|/accounts/logout/|/static/)")
# Lists repeat the same kinds of links on every page and under every filter: after this many
# addresses with the same path, further query strings on it are not followed.
PER_PATH = 4
LIMIT = 1500


@pytest.fixture
def demo(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", "--year", "2010", stdout=io.StringIO())


def crawl(client: Client, start: str) -> dict[str, tuple[int, str]]:
    """Every address reachable from `start` by links: {url: (status, the page that linked it)}."""
    seen, per_path, broken = {start}, {}, {}
    queue = deque([(start, "")])
    while queue and len(seen) < LIMIT:
        url, referrer = queue.popleft()
        response = client.get(url)
        if response.status_code >= 400:
            broken[url] = (response.status_code, referrer)
            continue
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        for href in HREF.findall(response.content.decode()):
            href = unescape(href)
            if SKIP.match(href):
                continue
            target = urljoin(url, href)
            parts = urlsplit(target)
            if parts.netloc not in ("", "testserver"):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target in seen:
                continue
            per_path[parts.path] = per_path.get(parts.path, 0) + 1
            if parts.query and per_path[parts.path] > PER_PATH:
                continue
            seen.add(target)
            queue.append((target, url))
    return broken


@pytest.mark.parametrize("username", ROLES)
def test_no_link_of_a_demo_role_leads_nowhere(demo, username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    broken = crawl(client, "/")
    assert not broken, "\n".join(f"{code} {url} (linked from {ref})" for url, (code, ref) in sorted(broken.items()))


def test_no_public_link_leads_nowhere(demo):
    broken = crawl(Client(), "/public/")
    assert not broken, "\n".join(f"{code} {url} (linked from {ref})" for url, (code, ref) in sorted(broken.items()))
