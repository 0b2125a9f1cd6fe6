"""Every anonymous form rejects a POST without a CSRF token, and the public forms' per-client
limits live in the database: two separate browsers (Client instances) from one address share them.
"""
import re

import pytest
from django.test import Client
from django.urls import reverse

from commitments.models import Suggestion
from evaluations.models import Ballot
from tests.evaluations.builders import open_window, pledge

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ADDRESS = "198.51.100.77"


def browser(address=ADDRESS) -> Client:
    """A fresh browser that plays by the CSRF rules, from `address`."""
    return Client(enforce_csrf_checks=True, REMOTE_ADDR=address)


def post_form(client: Client, url: str, data: dict, form_page: str | None = None):
    """GET the page with the form (which sets the CSRF cookie), then POST with its token."""
    html = client.get(form_page or url).content.decode()
    token = TOKEN.search(html).group(1)
    return client.post(url, {**data, "csrfmiddlewaretoken": token})


def suggest_url(world):
    return reverse("commitments:suggest", args=[world.branch_a.pk])


def suggestion(n):
    return {"content": f"第{n}条：希望支部多走访困难群众", "contact": "", "website": ""}


# --- no token, no write ----------------------------------------------------------------------

def test_suggestion_box_rejects_a_post_without_a_token(world):
    response = browser().post(suggest_url(world), suggestion(1))
    assert response.status_code == 403
    assert "页面已过期" in response.content.decode()
    assert not Suggestion.objects.exists()
    # The same post with the page's token goes through: the refusal was the missing token.
    assert post_form(browser(), suggest_url(world), suggestion(1)).status_code == 302
    assert Suggestion.objects.count() == 1


def test_suggestion_box_rejects_a_forged_token(world):
    client = browser()
    client.get(suggest_url(world))
    response = client.post(suggest_url(world), {**suggestion(1), "csrfmiddlewaretoken": "x" * 64})
    assert response.status_code == 403
    assert not Suggestion.objects.exists()


def test_public_rating_rejects_a_post_without_a_token(world):
    open_window(world)
    c = pledge(world, world.branch_a, "赵敏")
    rate = reverse("evaluations:rate", args=[c.pk])
    page = reverse("portal:public_commitment", args=[c.pk])
    response = browser().post(rate, {"rating": "satisfied", "remark": "", "website": ""})
    assert response.status_code == 403
    assert "页面已过期" in response.content.decode()
    assert not Ballot.objects.exists()
    response = post_form(browser(), rate, {"rating": "satisfied", "remark": "", "website": ""}, form_page=page)
    assert response.status_code == 302
    assert Ballot.objects.count() == 1


def test_login_rejects_a_post_without_a_token(world):
    client = browser()
    response = client.post(reverse("login"), {"username": "secretary_a", "password": "Test-pass-2010"})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("name", ["logout", "password_change"])
def test_signed_in_forms_reject_a_post_without_a_token(world, name):
    client = browser()
    client.force_login(world.secretary_a)
    response = client.post(reverse(name), {})
    assert response.status_code == 403
    assert client.session.get("_auth_user_id") == str(world.secretary_a.pk)


# --- limits per client, kept in the database -------------------------------------------------

def test_suggestion_box_limit_holds_across_two_browsers_from_one_address(world, settings):
    settings.SUGGESTION_BOX_LIMIT = 2
    first, second = browser(), browser()
    assert post_form(first, suggest_url(world), suggestion(1)).status_code == 302
    assert post_form(first, suggest_url(world), suggestion(2)).status_code == 302
    # A new browser (no cookie, no session) from the same address is still over the limit.
    refused = post_form(second, suggest_url(world), suggestion(3))
    assert refused.status_code == 429
    assert "提交过于频繁" in refused.content.decode()
    assert Suggestion.objects.count() == 2
    # Another address is a different client.
    assert post_form(browser("198.51.100.78"), suggest_url(world), suggestion(4)).status_code == 302
    assert Suggestion.objects.count() == 3


def test_network_cap_holds_across_two_browsers(world, settings):
    settings.BALLOTS_PER_NETWORK_PER_DAY = 1
    open_window(world)
    c = pledge(world, world.branch_a, "赵敏")
    rate = reverse("evaluations:rate", args=[c.pk])
    page = reverse("portal:public_commitment", args=[c.pk])
    data = {"rating": "satisfied", "remark": "", "website": ""}
    assert post_form(browser(), rate, data, form_page=page).status_code == 302
    second = post_form(browser(), rate, data, form_page=page)  # new cookie, same address
    assert second.status_code == 429
    assert "该网络今天对该承诺的评议已达上限（1次）" in second.content.decode()
    assert "您已评议过该承诺" not in second.content.decode()
    assert Ballot.objects.count() == 1
    assert post_form(browser("198.51.100.79"), rate, data, form_page=page).status_code == 302
    assert Ballot.objects.count() == 2


def test_hourly_ballot_limit_holds_across_browsers(world, settings):
    settings.BALLOTS_PER_CLIENT_HOUR = 2
    open_window(world)
    commitments = [pledge(world, world.branch_a, name) for name in ("赵敏", "钱学", "孙立")]
    data = {"rating": "basic", "remark": "", "website": ""}
    statuses = []
    for c in commitments:
        rate = reverse("evaluations:rate", args=[c.pk])
        page = reverse("portal:public_commitment", args=[c.pk])
        statuses.append(post_form(browser(), rate, data, form_page=page).status_code)
    assert statuses == [302, 302, 429]
    assert Ballot.objects.count() == 2
