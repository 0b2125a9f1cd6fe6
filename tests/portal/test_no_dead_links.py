"""No link leads nowhere: every demo role follows every link on every page reachable from its home
page (and the public follows every link from the noticeboard), and none answers 404 or 500.

Links are those of <a href> on the site; downloads (PDF, Excel, attachments) are requested too, so
a link to a file the user may not have fails as well. Pages are read with GET only (a GET never
writes), each address once per role; query strings count, so filters and pages are followed."""
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from tests.portal.crawl import crawl

User = get_user_model()
ROLES = ["admin", "security", "auditor", "reviewer", "city_secretary", "dw_secretary", "zb_secretary",
         "zb_staff", "zb2_secretary", "member", "member2"]


@pytest.fixture
def demo(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", "--year", "2010", stdout=io.StringIO())


@pytest.mark.parametrize("username", ROLES)
def test_no_link_of_a_demo_role_leads_nowhere(demo, username):
    client = Client()
    client.force_login(User.objects.get(username=username))
    broken = crawl(client, "/")
    assert not broken, "\n".join(f"{code} {url} (linked from {ref})" for url, (code, ref) in sorted(broken.items()))


def test_no_public_link_leads_nowhere(demo):
    broken = crawl(Client(), "/public/")
    assert not broken, "\n".join(f"{code} {url} (linked from {ref})" for url, (code, ref) in sorted(broken.items()))


# Django's and the widgets' English that must never reach a page (the UI is Simplified Chinese).
ENGLISH = ["Select an option", "---------", "This field is required", ">Submit<", "Choose File"]


@pytest.mark.parametrize("username", ["admin", "zb_staff", "dw_secretary"])
def test_no_page_shows_english_ui_text(demo, username):
    """The account, member, campaign and commitment forms of the roles that fill them in: every
    select's blank choice and every placeholder is in Chinese."""
    found = []

    def check(url, html):
        found.extend(f"{url}: {word}" for word in ENGLISH if word in html)

    client = Client()
    client.force_login(User.objects.get(username=username))
    crawl(client, "/", on_page=check)
    assert not found, "\n".join(found)

