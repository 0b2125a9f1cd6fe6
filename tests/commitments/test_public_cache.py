"""The public pages' cache (commitments/public_cache.py): served from the cache, stale after every
kind of change, never with another visitor's CSRF token, never for logged-in users or writes."""
import datetime

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from commitments import public_cache
from commitments import services as commitment_services
from commitments.models import Suggestion
from commitments.services.campaigns import campaign_update
from commitments.services.progress import progress_record
from core.templatetags.cn import cn_date
from evaluations.models import Ballot
from orgs import services as org_services
from orgs.models import Member, Organisation
from tests.commitments.publishing import approved, published
from tests.conftest import PASSWORD
from tests.evaluations.builders import closed_window, open_window, pledge, release


@pytest.fixture(autouse=True)
def cache_on(settings):
    settings.PUBLIC_PAGE_CACHE = True
    cache.clear()
    yield
    if "locmem" in settings.CACHES["default"]["BACKEND"]:
        cache.clear()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run the services' after-commit callbacks (the generation bump) as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def board():
    return reverse("portal:noticeboard")


def org_url(org):
    return reverse("portal:public_org", args=[org.pk])


def c_url(c):
    return reverse("portal:public_commitment", args=[c.pk])


def get(client, url, **kw) -> str:
    response = client.get(url, **kw)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.fixture
def pages(world):
    """A published pledge of member A and branch A's own commitment; the three pages visited once."""
    world.pledge = published(world, member=world.member_a)
    world.own = published(world, organisation=world.branch_a, drafter=world.staff_a)
    world.urls = [board(), org_url(world.branch_a), org_url(world.committee), c_url(world.pledge), c_url(world.own)]
    client = Client()
    for url in world.urls:
        get(client, url)
    return world


def stored_keys() -> int:
    return len([k for k in cache._cache if public_cache.KEY_PREFIX in k])


# --- served from the cache ------------------------------------------------------------------

def test_second_request_is_served_from_the_cache(pages, django_assert_max_num_queries):
    client = Client()
    for url in pages.urls:
        first = get(client, url)
        with django_assert_max_num_queries(1):
            again = client.get(url)
        assert again.content.decode() == first
        assert again["Cache-Control"] == "public, max-age=0" and again["ETag"]


def test_stale_copy_shows_that_it_is_cached(pages):
    """A write that bypasses the services (so no bump) is not seen: proof that the copy is served."""
    Organisation.objects.filter(pk=pages.branch_a.pk).update(name="绕过服务改的名字")
    assert "绕过服务改的名字" not in get(Client(), org_url(pages.branch_a))


def test_matching_etag_gets_304(pages):
    client = Client()
    etag = client.get(org_url(pages.branch_a))["ETag"]
    response = client.get(org_url(pages.branch_a), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304 and response["ETag"] == etag


def test_other_parameters_and_searches_are_answered_but_not_stored(pages):
    before = stored_keys()
    client = Client()
    get(client, board(), data={"q": "第一"})
    get(client, board(), data={"page": "abc"})
    get(client, org_url(pages.branch_a), data={"utm": "<x>"})
    get(client, board(), data={"campaign": "2010", "x": "1"})
    get(client, board(), data={"page": "999"})  # past the end: shows the last page
    get(client, board(), data={"campaign": "1999"})  # no such year: shows the current one
    get(client, org_url(pages.branch_a), data={"campaign": "02010"})
    assert stored_keys() == before
    # The noticeboard's known parameters are stored, one entry per value.
    get(client, board(), data={"campaign": "2010", "page": "1"})
    assert stored_keys() == before + 1


def test_noticeboard_lists_counts_and_pages(world, settings):
    published(world, member=world.member_a)
    published(world, organisation=world.branch_a, drafter=world.staff_a)
    m = Member.objects.create(branch=world.branch_b, name="王芳", gender="F")
    published(world, member=m, reviewer=world.secretary_b, drafter=world.reviewer, publisher=world.reviewer)
    m2 = Member.objects.create(branch=world.branch_a, name="刘强", gender="M")
    published(world, member=m2)
    html = get(Client(), board())
    assert "本组织承诺已公开 · 党员承诺 2 份" in html and "第二党支部" in html and "共 2 条" in html
    settings.PAGE_SIZE = 1
    cache.clear()
    first = get(Client(), board())
    assert "第一党支部" in first and "第二党支部" not in first and "第 1/2 页，共 2 条" in first
    second = get(Client(), board(), data={"page": "2"})
    assert "第二党支部" in second and "第一党支部" not in second and "第 2/2 页，共 2 条" in second
    # A search filters the same list.
    found = get(Client(), board(), data={"q": "第二"})
    assert "第二党支部" in found and "本组织承诺已公开" not in found


# --- every kind of change shows on the next request ---------------------------------------

def test_publishing_a_pledge_shows_everywhere(pages, committed):
    m = Member.objects.create(branch=pages.branch_a, name="孙丽", gender="F")
    with committed():
        c = published(pages, member=m)
    assert "孙丽" in get(Client(), org_url(pages.branch_a))
    assert "党员承诺 2 份" in get(Client(), board())
    assert "孙丽" in get(Client(), c_url(c))


def test_revision_and_new_public_version_show(pages, committed):
    c = pages.pledge
    with committed():
        c = commitment_services.commitment_revise(actor=pages.staff_a, commitment=c, version=c.version)
    assert "该承诺正在修订" in get(Client(), c_url(c))
    item = c.items.first()
    with committed():
        c = commitment_services.commitment_save_draft(
            actor=pages.staff_a, commitment=c, version=c.version, goal="修订后的目标",
            items=[{"id": item.pk, "content": "修订后的事项", "measures": "m", "deadline": datetime.date(2010, 12, 31),
                    "responsible": ""}])
        commitment_services.commitment_submit(actor=pages.member_user_a, commitment=c, version=c.version)
    assert "修订后的事项" not in get(Client(), c_url(c))
    from reviews.services import review_decide
    from tests.commitments.publishing import ALL_TICKED
    c.refresh_from_db()
    with committed():
        review_decide(actor=pages.secretary_a, commitment=c, version=c.version, decision="approve",
                      criteria=ALL_TICKED, opinion="同意")
        c.refresh_from_db()
        commitment_services.commitment_publish(actor=pages.staff_a, commitment=c, version=c.version,
                                               published_on=datetime.date.today(), channels=["internet"])
    html = get(Client(), c_url(c))
    assert "修订后的事项" in html and "该承诺正在修订" not in html and f"{cn_date(datetime.date.today())}公开（现行）" in html


def test_adding_the_internet_channel_shows_everywhere(pages, committed):
    """四（三）: a pledge published at a 会议 only is on no cached page; adding 网络 puts it on all."""
    c = approved(pages, member=pages.member_a2)
    with committed():
        commitment_services.commitment_publish(actor=pages.staff_a, commitment=c, version=c.version,
                                               published_on=datetime.date(2010, 10, 20), channels=["meeting"])
    client = Client()
    assert "王堃" not in get(client, org_url(pages.branch_a))
    assert "党员承诺 1 份" in get(client, board())
    c.refresh_from_db()
    with committed():
        commitment_services.publication_add_channels(actor=pages.staff_a, commitment=c, version=c.version,
                                                     channels=["internet"], published_on=datetime.date(2010, 10, 22))
    assert "王堃" in get(client, org_url(pages.branch_a))
    assert "党员承诺 2 份" in get(client, board())
    assert "2010年10月22日公开" in get(client, c_url(c))


def test_public_progress_entry_shows(pages, committed):
    c = pages.pledge
    item_id = c.public_version.snapshot["items"][0]["id"]
    with committed():
        progress_record(actor=pages.staff_a, commitment=c, item_id=item_id, happened_on=datetime.date(2010, 11, 1),
                        done="走访困难群众三户", visibility="public")
    assert "走访困难群众三户" in get(Client(), c_url(c))


def test_released_results_show(world, committed):
    closed_window(world)
    c = pledge(world, world.branch_a, "赵敏")
    client = Client()
    assert "评议结果经组织考核后在本页公布" in get(client, c_url(c))
    get(client, org_url(world.branch_a))
    with committed():
        release(world, c)
    html = get(Client(), c_url(c))
    assert "评议结果经组织考核后在本页公布" not in html and "群众满意率" in html
    assert "评议结果：" in get(Client(), org_url(world.branch_a))


def test_organisation_rename_and_phone_show(pages, committed):
    org = pages.branch_a
    with committed():
        org_services.organisation_update(actor=pages.admin, org=org, version=org.version,
                                         data={"name": "第一党支部（新）", "supervision_phone": "0756-2129999"})
    for url in (org_url(org), c_url(pages.own), c_url(pages.pledge)):
        html = get(Client(), url)
        assert "第一党支部（新）" in html and "0756-2129999" in html, url
    assert "第一党支部（新）" in get(Client(), board())
    assert "第一党支部（新）" in get(Client(), org_url(pages.committee))


def test_new_and_revoked_organisations_show(pages, committed):
    with committed():
        org = org_services.organisation_create(actor=pages.admin, parent=pages.committee, name="新设党支部",
                                               kind="branch")
    assert "新设党支部" in get(Client(), org_url(pages.committee))
    get(Client(), org_url(org))
    org.refresh_from_db()
    with committed():
        org_services.organisation_update(actor=pages.admin, org=org, version=org.version, data={"is_active": False})
    assert Client().get(org_url(org)).status_code == 404
    assert "新设党支部" not in get(Client(), org_url(pages.committee))


def test_member_rename_and_transfer_show(pages, committed):
    m = Member.objects.get(pk=pages.member_a.pk)
    with committed():
        m = org_services.member_update(actor=pages.secretary_a, member=m, version=m.version, data={"name": "李娜娜"})
    assert "李娜娜" in get(Client(), org_url(pages.branch_a))
    assert "李娜娜" in get(Client(), c_url(pages.pledge))
    get(Client(), org_url(pages.branch_b))
    with committed():
        org_services.member_transfer(actor=pages.committee_secretary, member=m, to_branch=pages.branch_b,
                                     version=m.version)
    assert "李娜娜" not in get(Client(), org_url(pages.branch_a))
    assert "李娜娜" in get(Client(), org_url(pages.branch_b))


def test_campaign_change_shows(pages, committed):
    with committed():
        campaign_update(actor=pages.admin, campaign=pages.campaign, data={"name": "2010年公开承诺（更名）"})
    for url in (board(), org_url(pages.branch_a), c_url(pages.pledge)):
        assert "2010年公开承诺（更名）" in get(Client(), url), url


def test_new_day_renders_afresh(pages, monkeypatch):
    """The 群众评议 window and overdue items move with the date: a stored page is for its day only."""
    before = public_cache.lookup(public_cache.page_key("org", pages.branch_a.pk, ""))
    assert before.hit
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    monkeypatch.setattr(public_cache.timezone, "localdate", lambda: tomorrow)
    assert not public_cache.lookup(public_cache.page_key("org", pages.branch_a.pk, "")).hit


def test_lost_generation_is_never_an_old_one(pages):
    cache.delete(public_cache._generation_key())
    assert not public_cache.lookup(public_cache.page_key("org", pages.branch_a.pk, "")).hit


# --- per visitor: CSRF tokens, messages, logged-in users, writes ---------------------------

def test_rating_form_is_per_visitor_and_both_submissions_succeed(world):
    open_window(world)
    c = pledge(world, world.branch_a, "赵敏")
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    html_first = get(first, c_url(c))
    html_second = get(second, c_url(c))  # served from the cache
    assert public_cache.lookup(public_cache.page_key("commitment", c.pk, "")).hit
    token_first = first.cookies[django_settings.CSRF_COOKIE_NAME].value
    token_second = second.cookies[django_settings.CSRF_COOKIE_NAME].value
    assert token_first != token_second
    assert "csrfmiddlewaretoken" in html_first and "csrfmiddlewaretoken" in html_second
    stored = cache.get(public_cache.page_key("commitment", c.pk, ""))["html"]
    assert "csrfmiddlewaretoken" not in stored and public_cache.SLOT in stored
    # A page with a token is the visitor's own: no shared caching.
    assert "private" in second.get(c_url(c))["Cache-Control"]
    rate_url = reverse("evaluations:rate", args=[c.pk])

    def form_token(html):
        return html.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]

    response = second.post(rate_url, {"rating": "satisfied", "csrfmiddlewaretoken": form_token(html_second)},
                           REMOTE_ADDR="198.51.100.2")
    assert response.status_code == 302
    response = first.post(rate_url, {"rating": "basic", "csrfmiddlewaretoken": form_token(html_first)},
                          REMOTE_ADDR="198.51.100.1")
    assert response.status_code == 302
    assert Ballot.objects.filter(commitment=c).count() == 2
    # Each sees the thanks (a message in the session: never from the cache), then "already rated".
    assert "感谢您参与群众评议" in get(second, response["Location"])
    again = get(second, c_url(c))
    assert "您已参与对该承诺的群众评议" in again and "感谢您参与群众评议" not in again
    # A third visitor still gets the form.
    assert "提交评议" in get(Client(), c_url(c))


def test_suggestion_box_works_after_the_org_page_was_cached_for_someone_else(world):
    get(Client(), org_url(world.branch_a))
    client = Client(enforce_csrf_checks=True)
    html = get(client, org_url(world.branch_a))
    assert "csrfmiddlewaretoken" not in html
    box = reverse("commitments:suggest", args=[world.branch_a.pk])
    get(client, box)
    token = client.cookies[django_settings.CSRF_COOKIE_NAME].value
    response = client.post(box, {"content": "建议公开办事流程", "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and Suggestion.objects.count() == 1


def test_logged_in_users_are_never_served_or_stored(pages, as_user):
    # Stored by an anonymous visit; a write that bypasses the services leaves it stale ...
    Organisation.objects.filter(pk=pages.branch_a.pk).update(supervision_phone="0756-2128888")
    assert "0756-2128888" not in get(Client(), org_url(pages.branch_a))
    # ... but a logged-in user gets the page rendered afresh, privately, and it is not stored.
    cache.clear()
    user_client = as_user(pages.secretary_a)
    response = user_client.get(org_url(pages.branch_a))
    html = response.content.decode()
    assert "0756-2128888" in html and "退出登录" in html and "private" in response["Cache-Control"]
    assert stored_keys() == 0
    assert "退出登录" not in get(Client(), org_url(pages.branch_a))


def test_login_of_a_user_reads_no_stale_copy(pages, client):
    Organisation.objects.filter(pk=pages.branch_a.pk).update(name="直接改名")
    client.login(username=pages.secretary_a.username, password=PASSWORD)
    assert "直接改名" in get(client, org_url(pages.branch_a))


def test_writes_are_refused_and_never_stored(pages):
    for url in (board(), org_url(pages.branch_a), c_url(pages.pledge)):
        assert Client().post(url).status_code == 405
        assert Client().head(url).status_code == 405


def test_a_failing_cache_never_breaks_a_page(world, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                                   "LOCATION": str(blocker / "pages")}}
    published(world, member=world.member_a)
    for _ in range(2):
        assert "李娜" in get(Client(), org_url(world.branch_a))


# --- the backend --------------------------------------------------------------------------

def test_cache_url_schemes():
    from config.settings import cache_from_url
    assert cache_from_url("file:///var/cache/x")["BACKEND"] == "commitments.public_cache.FileBasedCache"
    assert cache_from_url("file:///var/cache/x")["LOCATION"] == "/var/cache/x"
    db = cache_from_url("db://public_cache?max_entries=500")
    assert (db["BACKEND"], db["LOCATION"], db["OPTIONS"]) == (
        "django.core.cache.backends.db.DatabaseCache", "public_cache", {"MAX_ENTRIES": 500})
    assert cache_from_url("redis://127.0.0.1:6379/1")["LOCATION"] == "redis://127.0.0.1:6379/1"
    with pytest.raises(Exception, match="not supported"):
        cache_from_url("ftp://x")


def test_file_cache_stays_bounded_though_it_culls_less_often(tmp_path):
    files = public_cache.FileBasedCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 10}})
    for n in range(1000):
        files.set(f"k{n}", "x" * 100)
    assert len(list(tmp_path.glob("*.djcache"))) < 800
