"""群众评议 on the public noticeboard and the released results."""
import re

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from commitments.anonymity import salt_of
from core.templatetags.cn import cn_date
from evaluations import services
from evaluations.models import Ballot
from evaluations.views.public import RATER_COOKIE, rater_token_of
from orgs.models import AuditEvent, Member
from tests.commitments.publishing import approved, published
from tests.evaluations.builders import assess, closed_window, in_window, open_window, pledge, release, window

TALLY = re.compile(r"\d+\s*票")


def page(client, c):
    return client.get(reverse("portal:public_commitment", args=[c.pk]))


def rate(client, c, rating="satisfied", **extra):
    return client.post(reverse("evaluations:rate", args=[c.pk]), {"rating": rating, **extra})


def rating_section(html: str) -> str:
    start = html.index('id="rating"')
    return html[start:html.index("</section>", start)]


@pytest.fixture
def c(world):
    return pledge(world, world.branch_a, "赵敏")


# --- the window ------------------------------------------------------------------------------

def test_form_shows_during_the_window(world, c):
    open_window(world)
    html = page(Client(), c).content.decode()
    section = rating_section(html)
    assert f'action="{reverse("evaluations:rate", args=[c.pk])}"' in section
    for label in ("满意", "基本满意", "不满意"):
        assert f">{label}</label>" in section
    assert 'name="remark"' in section and "csrfmiddlewaretoken" in section


@pytest.mark.parametrize("opens,closes,says", [(3, 10, "群众评议尚未开始"), (-10, -1, "群众评议已经结束")])
def test_no_form_outside_the_window_but_its_dates(world, c, opens, closes, says):
    window(world, opens=opens, closes=closes)
    response = page(Client(), c)
    section = rating_section(response.content.decode())
    assert says in section
    assert "evaluations" not in section and "<form" not in section
    assert cn_date(world.campaign.evaluation_opens) in section and cn_date(world.campaign.evaluation_deadline) in section


def test_post_outside_the_window_says_so_and_counts_nothing(world, c):
    closed_window(world)
    response = rate(Client(), c)
    assert response.status_code == 200
    assert "群众评议已经结束" in response.content.decode()
    assert not Ballot.objects.exists()


# --- casting a ballot ------------------------------------------------------------------------

def test_anonymous_post_creates_one_ballot_sets_the_cookie_and_thanks(world, c):
    open_window(world)
    client = Client()
    response = rate(client, c, "basic", remark="希望加快进度")
    assert response.status_code == 302 and response["Location"] == reverse("portal:public_commitment",
                                                                            args=[c.pk])
    ballot = Ballot.objects.get()
    assert (ballot.commitment_id, ballot.rating, ballot.remark) == (c.pk, "basic", "希望加快进度")
    cookie = response.cookies[RATER_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
    assert int(cookie["max-age"]) == 365 * 24 * 3600
    request = RequestFactory().get("/")
    request.COOKIES[RATER_COOKIE] = cookie.value
    token = rater_token_of(request)
    assert len(token) >= 32 and ballot.rater_hash == services.rater_hash_of(token, salt=salt_of(world.campaign))
    html = client.get(response["Location"]).content.decode()
    assert "感谢您参与群众评议" in html
    assert "您已参与对该承诺的群众评议" in rating_section(html) and "<form" not in rating_section(html)


def test_cookie_is_secure_over_https(world, c):
    open_window(world)
    response = Client().post(reverse("evaluations:rate", args=[c.pk]), {"rating": "satisfied"}, secure=True)
    assert response.cookies[RATER_COOKIE]["secure"]


def test_hundred_posts_from_one_client_count_once(world, c):
    open_window(world)
    client = Client()
    statuses = {rate(client, c, ["satisfied", "basic", "unsatisfied"][i % 3]).status_code for i in range(100)}
    assert Ballot.objects.count() == 1
    assert statuses == {302, 200}
    again = rate(client, c)
    assert again.status_code == 200 and "您已评议过该承诺" in again.content.decode()


def test_hundred_posts_with_cookies_cleared_from_one_address_count_once(world, c):
    open_window(world)
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(100):
        client.cookies.clear()
        rate(client, c, "unsatisfied")
    assert Ballot.objects.filter(commitment=c).count() == 1


def test_two_clients_count_twice(world, c):
    open_window(world)
    assert rate(Client(REMOTE_ADDR="198.51.100.1"), c, "satisfied").status_code == 302
    assert rate(Client(REMOTE_ADDR="198.51.100.2"), c, "unsatisfied").status_code == 302
    assert sorted(Ballot.objects.values_list("rating", flat=True)) == ["satisfied", "unsatisfied"]


def test_the_page_gives_a_browser_its_rater_token_while_the_window_is_open(world, c):
    open_window(world)
    first = page(Client(), c)
    assert first.cookies[RATER_COOKIE]["httponly"] and "private" in first["Cache-Control"]
    client = Client()
    page(client, c)
    assert RATER_COOKIE not in page(client, c).cookies  # kept, not replaced
    closed_window(world)
    assert RATER_COOKIE not in page(Client(), c).cookies


def test_two_browsers_on_one_network_both_rate(world, c):
    open_window(world)
    first, second = Client(REMOTE_ADDR="203.0.113.30"), Client(REMOTE_ADDR="203.0.113.30")
    for client in (first, second):
        page(client, c)  # the form's page gives each browser its own token
    assert rate(first, c, "satisfied").status_code == 302
    assert rate(second, c, "unsatisfied").status_code == 302
    assert sorted(Ballot.objects.values_list("rating", flat=True)) == ["satisfied", "unsatisfied"]
    again = rate(first, c)
    assert again.status_code == 200 and "您已评议过该承诺" in again.content.decode()
    assert "您已参与对该承诺的群众评议" in rating_section(page(second, c).content.decode())
    assert Ballot.objects.count() == 2


def test_the_network_cap_says_so_and_not_that_you_have_rated(world, c, settings):
    settings.BALLOTS_PER_NETWORK_PER_DAY = 2
    open_window(world)
    statuses = []
    for _ in range(3):
        client = Client(REMOTE_ADDR="203.0.113.31")
        page(client, c)
        response = rate(client, c)
        statuses.append(response.status_code)
    assert statuses == [302, 302, 429]
    html = response.content.decode()
    assert "该网络今天对该承诺的评议已达上限（2次），请明天再试或换用其他网络。" in html
    assert "您已评议过" not in html and 'name="rating"' not in html
    assert Ballot.objects.count() == 2


def test_a_browser_without_a_cookie_on_a_network_that_rated_is_asked_for_one(world, c):
    open_window(world)
    colleague = Client(REMOTE_ADDR="203.0.113.32")
    page(colleague, c)
    assert rate(colleague, c).status_code == 302
    newcomer = Client(REMOTE_ADDR="203.0.113.32")
    refused = rate(newcomer, c, "basic")  # straight to the form's address, no token yet
    html = refused.content.decode()
    assert refused.status_code == 200 and "没有保存评议凭证（Cookie）" in html and "您已评议过" not in html
    assert 'name="rating"' in html and RATER_COOKIE in refused.cookies
    # Sent again with the cookie the refusal gave, it counts.
    assert rate(newcomer, c, "basic").status_code == 302
    assert sorted(Ballot.objects.values_list("rating", flat=True)) == ["basic", "satisfied"]


def test_throttled_client_gets_429(world, c, settings):
    settings.BALLOTS_PER_CLIENT_HOUR = 1
    open_window(world)
    other = pledge(world, world.branch_a, "钱敏")
    assert rate(Client(), c).status_code == 302
    response = rate(Client(), other)
    assert response.status_code == 429 and "评议提交过于频繁" in response.content.decode()
    assert Ballot.objects.count() == 1


def test_invalid_input_reshows_the_form_and_counts_nothing(world, c):
    open_window(world)
    response = Client().post(reverse("evaluations:rate", args=[c.pk]), {"remark": "好"})
    assert response.status_code == 200 and "请选择满意、基本满意或不满意" in response.content.decode()
    response = rate(Client(), c, remark="长" * 201)
    assert response.status_code == 200 and "意见不能超过200个字" in response.content.decode()
    response = rate(Client(), c, website="http://spam.example")
    assert response.status_code == 400
    assert not Ballot.objects.exists()


def test_get_on_rate_is_405(world, c):
    open_window(world)
    assert Client().get(reverse("evaluations:rate", args=[c.pk])).status_code == 405


def test_unpublished_commitment_is_404(world):
    open_window(world)
    m = Member.objects.create(branch=world.branch_a, name="孙敏", gender="F")
    draft = approved(world, member=m)
    assert page(Client(), draft).status_code == 404
    assert rate(Client(), draft).status_code == 404
    assert rate(Client(), type(draft)(pk=999999)).status_code == 404
    assert not Ballot.objects.exists()


def test_anonymous_access_has_no_login_redirect(world, c):
    open_window(world)
    client = Client()
    assert page(client, c).status_code == 200
    response = rate(client, c)
    assert "/accounts/login/" not in response.get("Location", "")


def test_ballot_audit_row_has_no_client_address(world, c):
    open_window(world)
    rate(Client(REMOTE_ADDR="192.0.2.55"), c)
    event = AuditEvent.objects.get(action="evaluation.ballot")
    assert event.client_ip is None and event.actor is None
    assert "192.0.2.55" not in str(event.detail)


def test_no_tally_while_the_window_is_open(world, c):
    open_window(world)
    for n in range(4):
        rate(Client(REMOTE_ADDR=f"198.51.100.{n + 1}"), c, ["satisfied", "basic"][n % 2])
    for client in (Client(), Client(REMOTE_ADDR="198.51.100.1")):
        html = page(client, c).content.decode()
        assert "满意率" not in html and "评议结果" not in html.replace("评议结果将在", "").replace("评议结果经", "")
        assert not TALLY.search(html)
    org_html = Client().get(reverse("portal:public_org", args=[world.branch_a.pk])).content.decode()
    assert "满意率" not in org_html and not TALLY.search(org_html)


# --- results once released --------------------------------------------------------------------

def _voices(world, c):
    """Five online ballots (3 满意, 1 基本满意, 1 不满意) during the window, a meeting tally
    (10/4/5), one leader's 基本满意 comment and an assessment of 已兑现 (优秀)."""
    for n, rating in enumerate(["satisfied", "satisfied", "satisfied", "basic", "unsatisfied"]):
        services.ballot_cast(commitment=c, rating=rating, rater_token=f"token-{n}",
                             client_address=f"198.51.100.{n + 1}", today=in_window(world))
    services.tally_record(actor=world.staff_a, commitment=c, held_on=in_window(world), place="支部活动室",
                          satisfied=10, basic=4, unsatisfied=5, attendees=20, expected=20,
                          mass_representatives=20)
    world.secretary_a.last_name = "欧阳修远"
    world.secretary_a.save(update_fields=["last_name"])
    services.leader_comment_save(actor=world.secretary_a, commitment=c, rating="basic",
                                 comment="服务群众有成效，进度还需加快。")


def test_results_card_appears_only_after_release_with_the_right_arithmetic(world, c):
    closed_window(world)
    _voices(world, c)
    assess(world, c, result="fulfilled", grade="excellent", actor=world.secretary_a)
    before = page(Client(), c).content.decode()
    assert 'id="result"' not in before and "满意率" not in before and not TALLY.search(before)

    release(world, c, actor=world.secretary_a)
    html = page(Client(), c).content.decode()
    assert 'id="result"' in html and 'id="rating"' not in html
    # By hand: 24 votes, 满意 13 + 基本满意 5 → 满意率 18/24 = 75.0%. Public score (13×100 + 5×60)/24
    # = 66.67; leader 60; assessment 100. Combined (20×60 + 30×66.67 + 50×100)/100 = 82.0 → 基本兑现.
    assert "75.0%" in html and "共 24 票" in html
    assert "满意 13 票，基本满意 5 票，不满意 6 票" in html and "网上评议 5 票，会议测评 19 票" in html
    assert re.search(r"综合评定</div>\s*<div[^>]*>基本兑现</div>", html)
    assert re.search(r"综合得分</div>\s*<div[^>]*>82\.0<", html)
    assert "已兑现，等次：优秀" in html
    assert "服务群众有成效，进度还需加快。" in html and "第一党支部点评 · 评价：基本满意" in html
    assert "欧阳修远" not in html and "secretary_a" not in html

    org_html = Client().get(reverse("portal:public_org", args=[world.branch_a.pk])).content.decode()
    assert "评议结果：基本兑现" in org_html and "满意率 75.0%" in org_html
    assert "欧阳修远" not in org_html


def test_org_commitment_badge_on_the_org_page(world):
    closed_window(world)
    own = published(world, organisation=world.branch_a)
    html = Client().get(reverse("portal:public_org", args=[world.branch_a.pk])).content.decode()
    assert "评议结果：" not in html
    release(world, own, result="unfulfilled", grade="poor")
    html = Client().get(reverse("portal:public_org", args=[world.branch_a.pk])).content.decode()
    assert "评议结果：未兑现" in html


def test_public_pages_never_show_leader_names_or_personal_data(world, c):
    closed_window(world)
    _voices(world, c)
    services.leader_comment_save(actor=world.committee_secretary, commitment=c, rating="satisfied",
                                 comment="带头作用明显。")
    release(world, c, actor=world.secretary_a)
    for url in (reverse("portal:public_commitment", args=[c.pk]),
                reverse("portal:public_org", args=[world.branch_a.pk]),
                reverse("portal:noticeboard")):
        html = Client().get(url).content.decode()
        for name in ("欧阳修远", "机关党委书记", "dw_secretary", "secretary_a", "1975年", "1998年"):
            assert name not in html, (url, name)
    assert "市某局机关党委点评" in page(Client(), c).content.decode()


def test_org_page_query_count_with_released_results_does_not_grow(world, django_assert_max_num_queries):
    closed_window(world)
    for i in range(2):
        release(world, pledge(world, world.branch_a, f"党员{i}"))
    client = Client()
    url = reverse("portal:public_org", args=[world.branch_a.pk])
    with django_assert_max_num_queries(20) as small:
        client.get(url)
    for i in range(2, 12):
        release(world, pledge(world, world.branch_a, f"党员{i}"))
    with django_assert_max_num_queries(20) as big:
        html = client.get(url).content.decode()
    assert html.count("评议结果：已兑现") == 12
    assert len(big.captured_queries) == len(small.captured_queries)


def test_commitment_page_query_count_is_fixed(world, c, django_assert_max_num_queries):
    closed_window(world)
    _voices(world, c)
    release(world, c, actor=world.secretary_a)
    client = Client()
    with django_assert_max_num_queries(30) as first:
        page(client, c)
    for n in range(5, 15):
        Ballot.objects.create(commitment=c, rating="satisfied", rater_hash=f"h{n}", client_hash=f"c{n}")
    with django_assert_max_num_queries(30) as second:
        assert page(client, c).status_code == 200
    assert len(first.captured_queries) == len(second.captured_queries)


def test_a_tampered_cookie_is_replaced_not_trusted(world, c):
    open_window(world)
    client = Client()
    client.cookies[RATER_COOKIE] = "chosen-token:forged"
    response = rate(client, c)
    assert response.status_code == 302
    ballot = Ballot.objects.get()
    assert ballot.rater_hash != services.rater_hash_of("chosen-token", salt=salt_of(world.campaign))
    assert response.cookies[RATER_COOKIE].value != "chosen-token:forged"
