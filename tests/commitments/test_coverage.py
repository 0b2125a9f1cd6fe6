"""覆盖情况: the dashboard's figures against a hand-counted tree, the lists behind them, the
scoping of ?org=, and the query count that must not grow with the number of organisations."""
import datetime
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from commitments import services
from commitments.models import Campaign, Commitment, Exemption, Item, ProgressEntry, StampedScan
from evaluations.models import Assessment, Ballot, MeetingTally
from evaluations.scoring import Tally
from evaluations.services import commitment_result_refresh
from orgs.models import MemberCategory, MemberStatus, OrgKind
from portal import coverage
from portal.coverage_export import coverage_export
from reviews.services import review_decide
from tests.commitments.evidence import upload
from tests.commitments.publishing import ALL_TICKED, backdate, published
from tests.conftest import make_commitment, make_member, make_org

pytestmark = pytest.mark.django_db
DAY = datetime.date
# After the 2010 public window (2010-11-01..2010-12-31): the public voice counts, and every
# item due 2010-12-31 that nobody completed is overdue.
TODAY = DAY(2011, 1, 15)
DASHBOARD = reverse("portal:coverage")
MEMBERS = reverse("portal:coverage_members")
ORGS = reverse("portal:coverage_orgs")
COMMITMENTS = reverse("portal:coverage_commitments")


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: TODAY)


def _progress(c, item, actor, *, completes=False):
    return ProgressEntry.objects.create(commitment=c, item=item, happened_on=DAY(2010, 12, 1), done="走访群众",
                                        completes_item=completes, recorded_by=actor)


def _assess(c, result, actor, org):
    assessment = Assessment.objects.create(commitment=c, result=result, grade="good", reason="考核",
                                           assessor_org=org, assessed_by=actor)
    commitment_result_refresh(commitment=c)
    return assessment


def _ballots(c, rating, n):
    start = Ballot.objects.count()
    for i in range(n):
        Ballot.objects.create(commitment=c, rating=rating, rater_hash=f"r{start + i}", client_hash="c")


@pytest.fixture
def tree(world):
    """The persona tree with every coverage state, counted by hand in the docstrings of the tests.

    committee (published, assessed 基本兑现, one of two items removed: 1 overdue)
    ├── branch A (published, an entry that does not complete: 2 overdue; tally 5/3/2 and a voided one)
    │     member A published (item 1 completed: 1 overdue; assessed 未兑现 then 已兑现; ballots 2/1/1),
    │     member A2 exempt, 赵三 deferred (due 2011-02-01), 钱四 blank, 孙五 transferred out
    ├── branch B (submitted)
    │     member B draft, 周二 deferred and overdue (due 2011-01-10), 吴三 made up without pledge,
    │     郑四 made up and pledged (submitted)
    ├── general branch (no commitment)
    │   └── branch C (returned)   member C blank, 冯二 exempt
    └── 已撤销支部 (inactive: not counted)
    committee 2 (draft) └── branch D (none)   member D approved
    """
    w = world
    camp = w.campaign
    a3 = make_member(w.branch_a, "赵三")
    a4 = make_member(w.branch_a, "钱四")
    make_member(w.branch_a, "孙五", status=MemberStatus.TRANSFERRED_OUT)
    b2 = make_member(w.branch_b, "周二")
    b3 = make_member(w.branch_b, "吴三")
    b4 = make_member(w.branch_b, "郑四")
    c2 = make_member(w.branch_c, "冯二", category=MemberCategory.RETIRED)
    w.blank_a, w.deferred_a, w.overdue_b = a4, a3, b2

    w.pledge_a = published(w, member=w.member_a)
    make_commitment(camp, member=w.member_b, status="draft")
    make_commitment(camp, member=b4, status="submitted")
    make_commitment(camp, member=w.member_d, status="approved")
    for member, kind, due, made_up in ((w.member_a2, "exempt", None, None), (a3, "defer", DAY(2011, 2, 1), None),
                                       (b2, "defer", DAY(2011, 1, 10), None),
                                       (b3, "defer", DAY(2010, 12, 1), DAY(2010, 12, 5)),
                                       (b4, "defer", DAY(2010, 12, 1), DAY(2010, 12, 5)),
                                       (c2, "exempt", None, None)):
        Exemption.objects.create(member=member, campaign=camp, kind=kind, reason="外出学习", makeup_due=due,
                                 made_up_on=made_up, decided_by=w.secretary_a)

    w.org_committee = published(w, organisation=w.committee, drafter=w.reviewer, reviewer=w.city_secretary,
                                publisher=w.reviewer)
    w.org_a = published(w, organisation=w.branch_a)
    make_commitment(camp, organisation=w.branch_b, status="submitted")
    make_commitment(camp, organisation=w.branch_c, status="returned")
    make_commitment(camp, organisation=w.committee2, status="draft")
    gone = make_org(w.committee, "已撤销支部", code="C1-E")
    gone.is_active = False
    gone.save(update_fields=["is_active"])

    first, second = w.pledge_a.items.order_by("position")
    _progress(w.pledge_a, first, w.staff_a, completes=True)
    _progress(w.org_a, w.org_a.items.order_by("position").first(), w.staff_a)
    Item.objects.filter(pk=w.org_committee.items.order_by("position").last().pk).update(removed_at=timezone.now())

    _assess(w.pledge_a, "unfulfilled", w.secretary_a, w.branch_a)
    _assess(w.pledge_a, "fulfilled", w.secretary_a, w.branch_a)
    _assess(w.org_committee, "partly", w.city_secretary, w.root)

    _ballots(w.pledge_a, "satisfied", 2)
    _ballots(w.pledge_a, "basic", 1)
    _ballots(w.pledge_a, "unsatisfied", 1)
    _ballots(w.org_committee, "satisfied", 1)
    MeetingTally.objects.create(commitment=w.org_a, held_on=DAY(2010, 11, 20), place="支部活动室", satisfied=5,
                                basic=3, unsatisfied=2, recorded_by=w.staff_a)
    MeetingTally.objects.create(commitment=w.org_a, held_on=DAY(2010, 11, 21), place="支部活动室", satisfied=10,
                                basic=0, unsatisfied=0, recorded_by=w.staff_a, voided_at=timezone.now(),
                                voided_by=w.staff_a, void_reason="计票有误")
    return w


def _rows(cov):
    return {r.org.name + ("（本级）" if r.is_self else ""): r.figures for r in cov.rows}


# --- the figures ------------------------------------------------------------------------------

def test_committee_totals(tree):
    """Five organisations must commit (the committee itself, A, B, the general branch, C): 2
    published, B submitted, C returned (submitted once: 已承诺), the general branch nothing. Ten
    members on the roll: 2 with a submitted pledge (张伟's is a draft), 2 exempt, 赵三 deferred
    within the date; 空白点 are 钱四 and 陈喆 (nothing), 张伟 (draft), 周二 (make-up overdue) and
    吴三 (made up without a pledge)."""
    cov = coverage.coverage_for(tree.committee_secretary, tree.committee, tree.campaign, today=TODAY)
    t = cov.total
    assert dict(+t.orgs) == {"published": 2, "submitted": 1, "returned": 1, "none": 1}
    assert (t.orgs_total, t.orgs_committed, t.orgs_blank, t.orgs_rate) == (5, 4, 1, 80.0)
    assert dict(+t.members) == {"published": 1, "draft": 1, "submitted": 1, "exempt": 2, "pending_makeup": 1,
                                "overdue_makeup": 1, "made_up": 1, "blank": 2}
    assert (t.members_total, t.members_pledged, t.members_exempt, t.members_deferred, t.members_blank) == (
        10, 2, 2, 1, 5)
    assert t.members_rate == 40.0  # (2 pledged + 2 exempt) / 10
    # Overdue: member A's second item, both of branch A's, the committee's remaining one.
    assert (t.items_overdue, t.commitments_overdue) == (4, 3)
    assert cov.rating_state == "closed"
    # Ballots 2/1/1 and 1/0/0, tally 5/3/2; the voided tally is left out.
    assert t.tally == Tally(8, 4, 3)
    assert t.satisfaction_rate == 80.0


def test_committee_funnel_and_fulfilment(tree):
    cov = coverage.coverage_for(tree.committee_secretary, tree.committee, tree.campaign, today=TODAY)
    funnel = {f["key"]: (f["org"], f["member"], f["total"]) for f in cov.funnel}
    # Organisations: committee, A (published), B (submitted), C (returned: submitted once).
    # Members: A (published, with progress, assessed), B (draft), 郑四 (submitted).
    assert funnel == {"drafted": (4, 3, 7), "submitted": (4, 2, 6), "approved": (2, 1, 3),
                      "published": (2, 1, 3), "progressed": (1, 1, 2), "assessed": (1, 1, 2)}
    fulfilment = {f["key"]: (f["org"], f["member"]) for f in cov.fulfilment}
    # The latest assessment counts: member A's 未兑现 was superseded by 已兑现.
    assert fulfilment == {"fulfilled": (0, 1), "partly": (1, 0), "unfulfilled": (0, 0)}


def test_committee_rows_per_child(tree):
    cov = coverage.coverage_for(tree.committee_secretary, tree.committee, tree.campaign, today=TODAY)
    rows = _rows(cov)
    assert list(rows) == ["市某局机关党委（本级）", "第一党支部", "第二党支部", "综合党总支"]
    own, a, b, g = rows.values()
    assert dict(+own.orgs) == {"published": 1} and own.members_total == 0
    assert (own.items_overdue, own.tally) == (1, Tally(1, 0, 0))
    assert dict(+a.orgs) == {"published": 1}
    assert dict(+a.members) == {"published": 1, "exempt": 1, "pending_makeup": 1, "blank": 1}
    assert (a.items_overdue, a.commitments_overdue, a.tally, a.satisfaction_rate) == (3, 2, Tally(7, 4, 3), 78.6)
    assert dict(+b.orgs) == {"submitted": 1}
    assert dict(+b.members) == {"draft": 1, "submitted": 1, "overdue_makeup": 1, "made_up": 1}
    assert b.members_blank == 3 and b.members_rate == 25.0  # the draft, the overdue and the made-up
    # The general branch's row covers branch C below it.
    assert dict(+g.orgs) == {"none": 1, "returned": 1}
    assert dict(+g.members) == {"blank": 1, "exempt": 1}
    # The rows add up to the total.
    total = coverage.Figures()
    for f in rows.values():
        total.add(f)
    assert total.orgs == cov.total.orgs and total.members == cov.total.members


def test_root_sees_both_committees_and_not_itself(tree):
    """The root has no parent: it makes no commitment and has no row of its own. 市另一局党组 is a
    党组, not a 基层党组织: by default it does not have to commit, and its draft counts nowhere."""
    cov = coverage.coverage_for(tree.city_secretary, tree.root, tree.campaign, today=TODAY)
    rows = _rows(cov)
    assert set(rows) == {"市某局机关党委", "市另一局党组"}
    assert dict(+rows["市另一局党组"].orgs) == {"none": 1}
    assert dict(+rows["市另一局党组"].members) == {"approved": 1}
    assert rows["市另一局党组"].commitments["org"]["drafted"] == 0
    assert cov.total.orgs_total == 6 and cov.total.members_total == 11


def test_a_branch_is_its_own_only_row(tree):
    cov = coverage.coverage_for(tree.secretary_a, tree.branch_a, tree.campaign, today=TODAY)
    assert [(r.org, r.is_self) for r in cov.rows] == [(tree.branch_a, True)]
    assert cov.total.members_total == 4 and cov.total.orgs_total == 1


def test_public_voice_is_secret_while_the_window_is_open(tree):
    cov = coverage.coverage_for(tree.committee_secretary, tree.committee, tree.campaign, today=DAY(2010, 11, 15))
    assert cov.rating_state == "open"
    assert cov.total.tally == Tally() and cov.chart_data()["satisfaction"] is None
    assert cov.below_threshold == []


def test_deadlines_count_the_days_left(tree):
    cov = coverage.coverage_for(tree.committee_secretary, tree.committee, tree.campaign, today=DAY(2010, 10, 1))
    assert [(d.label, d.date, d.days_left) for d in cov.deadlines] == [
        ("定诺截止", DAY(2010, 9, 30), -1), ("亮诺截止", DAY(2010, 10, 31), 30),
        ("群众评议开始", DAY(2010, 11, 1), 31), ("评诺截止（群众评议结束）", DAY(2010, 12, 31), 91)]
    assert cov.rating_state == "before"


def test_outsider_of_the_org_gets_404(tree):
    from django.http import Http404
    with pytest.raises(Http404):
        coverage.coverage_for(tree.secretary_b, tree.branch_a, tree.campaign, today=TODAY)


# --- the pages --------------------------------------------------------------------------------

def _get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def test_dashboard_defaults_to_the_users_root(tree, client):
    r = _get(client, tree.committee_secretary, DASHBOARD)
    assert r.status_code == 200
    assert r.context["org"] == tree.committee and r.context["campaign"] == tree.campaign
    html = r.content.decode()
    assert "覆盖情况 · 市某局机关党委" in html
    # The figures are in the page (tables), the charts read them from a JSON tag.
    assert 'id="coverage-data"' in html and "echarts-5.6.0/echarts.min.js" in html
    assert re.search(r'data-chart="members"\s+hidden', html)
    # Each number links to the list behind it: branch A's blank spot, the general branch's org.
    a = f"org={tree.branch_a.pk}&amp;campaign=2010"
    assert f'href="{MEMBERS}?{a}&amp;state=blank"' in html
    assert f'href="{ORGS}?org={tree.general.pk}&amp;campaign=2010&amp;state=blank"' in html
    # The 本级 line's numbers list the committee's own rows only.
    assert f'href="{COMMITMENTS}?org={tree.committee.pk}&amp;campaign=2010&amp;own=1&amp;state=overdue"' in html
    assert 'fw-bold">80%</span>' in html  # the satisfaction rate: the window has closed


def test_dashboard_org_outside_the_scope_is_404(tree, client):
    assert _get(client, tree.secretary_b, DASHBOARD, org=tree.branch_a.pk).status_code == 404
    assert _get(client, tree.secretary_b, DASHBOARD, org="x").status_code == 404
    assert _get(client, tree.secretary_b, DASHBOARD, org=tree.branch_b.pk).status_code == 200
    for url in (MEMBERS, ORGS, COMMITMENTS):
        assert _get(client, tree.committee_secretary, url, org=tree.branch_d.pk).status_code == 404
    assert _get(client, tree.member_user_a, DASHBOARD).status_code == 404
    assert _get(client, tree.auditor, DASHBOARD).status_code == 404


def test_dashboard_is_get_only(tree, client):
    client.force_login(tree.city_secretary)
    for url in (DASHBOARD, MEMBERS, ORGS, COMMITMENTS):
        assert client.post(url).status_code == 405


def test_dashboard_while_the_window_is_open(tree, client):
    today = TODAY
    camp = Campaign.objects.create(year=2011, name="2011年创先争优公开承诺", pledge_deadline=today - datetime.timedelta(60),
                                   publish_deadline=today - datetime.timedelta(10),
                                   evaluation_deadline=today + datetime.timedelta(30))
    c = make_commitment(camp, member=tree.member_a, status="published")
    _ballots(c, "unsatisfied", 3)
    html = _get(client, tree.city_secretary, DASHBOARD, campaign=2011).content.decode()
    assert "评议进行中" in html and "不满意" not in html.split("兑现情况与群众满意度")[1].split("</section>")[0]


def test_blank_spot_list(tree, client, settings):
    r = _get(client, tree.committee_secretary, MEMBERS, org=tree.committee.pk, campaign=2010)
    assert r.context["state"] == "blank"  # blank spots by default
    # No pledge (钱四, 陈喆), a draft (张伟), make-up overdue (周二), made up without a pledge (吴三).
    page = list(r.context["page"])
    assert sorted(m.name for m in page) == sorted(["钱四", "陈喆", "张伟", "周二", "吴三"])
    assert {m.name: m.state_label for m in page}["张伟"] == "空白点（草稿未提交）"
    assert "空白点（草稿未提交）" in r.content.decode()
    settings.PAGE_SIZE = 1
    r = _get(client, tree.committee_secretary, MEMBERS, org=tree.committee.pk, campaign=2010, state="exempt")
    assert r.context["page"].paginator.count == 2 and len(r.context["page"]) == 1
    assert "第 1/2 页" in r.content.decode()


def test_member_list_states(tree, client):
    def names(**params):
        r = _get(client, tree.committee_secretary, MEMBERS, org=tree.committee.pk, campaign=2010, **params)
        return sorted(m.name for m in r.context["page"])

    assert names(state="pledged") == sorted(["李娜", "郑四"])  # 张伟's pledge is only a draft
    assert names(state="defer") == sorted(["赵三", "周二", "吴三"])
    assert names(state="overdue_makeup") == ["周二"]
    assert names(state="made_up") == ["吴三"]
    assert names(state="draft") == ["张伟"]
    assert len(names(state="all")) == 10
    assert names(state="exempt", category=MemberCategory.RETIRED) == sorted(["王堃", "冯二"])


def test_member_list_offers_the_officer_actions(tree, client):
    """The branch officers see 代为填写 and 免于/延期 on a blank spot of the current campaign."""
    r = _get(client, tree.secretary_a, MEMBERS, org=tree.branch_a.pk, campaign=2010)
    (m,) = r.context["page"]
    assert m == tree.blank_a and m.can_pledge and m.can_excuse
    html = r.content.decode()
    assert reverse("commitments:pledge_start", args=[m.pk]) in html
    assert reverse("commitments:exemption_create", args=[m.pk]) in html
    r = _get(client, tree.secretary_b, MEMBERS, org=tree.branch_b.pk, campaign=2010, state="overdue_makeup")
    (m,) = r.context["page"]
    # No pledge yet: the make-up cannot be recorded, the pledge can be started.
    assert not m.can_make_up and m.can_pledge
    assert reverse("commitments:exemption_made_up", args=[m.excuse_pk]) not in r.content.decode()
    # The system administrator reads no member list at all (三员分立: no personal data).
    assert _get(client, tree.admin, MEMBERS, org=tree.branch_a.pk, campaign=2010).status_code == 404


def test_org_list(tree, client):
    def names(**params):
        r = _get(client, tree.committee_secretary, ORGS, org=tree.committee.pk, campaign=2010, **params)
        return [o.name for o in r.context["page"]]

    assert names(state="none") == ["综合党总支"]
    assert names(state="blank") == ["综合党总支"]
    assert names(state="published") == ["市某局机关党委", "第一党支部"]
    assert names(state="committed") == ["市某局机关党委", "第一党支部", "第二党支部", "第三党支部"]
    assert len(names()) == 5
    assert names(own=1) == ["市某局机关党委"]


def test_commitment_list(tree, client):
    def owners(**params):
        r = _get(client, tree.committee_secretary, COMMITMENTS, org=tree.committee.pk, campaign=2010, **params)
        return sorted((c.owner_name, c.items_overdue) for c in r.context["page"])

    assert owners(state="overdue") == sorted([("李娜", 1), ("第一党支部", 2), ("市某局机关党委", 1)])
    assert owners(state="fulfilled") == [("李娜", 1)]
    assert owners(state="progressed", kind="org") == [("第一党支部", 2)]
    assert owners(state="submitted", kind="member") == sorted([("李娜", 1), ("郑四", 0)])
    assert len(owners()) == 7
    assert owners(own=1) == [("市某局机关党委", 1)]


def test_org_page_links_to_its_dashboard(tree, client):
    html = _get(client, tree.committee_secretary, reverse("orgs:detail", args=[tree.general.pk])).content.decode()
    assert f'{DASHBOARD}?org={tree.general.pk}' in html


# --- 已公开 · 已归档盖章件 ------------------------------------------------------------------------

@pytest.fixture
def stamped(tree):
    """Scans on file: member A's pledge (the 公示 copy) and the committee's own commitment (its
    本组织存 copy, twice: one counts once); branch A's own commitment only a withdrawn one."""
    w = tree
    upload(w.pledge_a, w.staff_a)
    upload(w.org_committee, w.reviewer, copy="owner")
    upload(w.org_committee, w.reviewer, copy="reviewer")
    wrong = upload(w.org_a, w.staff_a)
    services.stamped_scan_withdraw(actor=w.staff_a, scan=wrong, revision=wrong.revision, reason="误传")
    return w


def test_stamped_figures_per_child_and_in_total(stamped):
    cov = coverage.coverage_for(stamped.committee_secretary, stamped.committee, stamped.campaign, today=TODAY)
    rows = _rows(cov)
    own, a = rows["市某局机关党委（本级）"], rows["第一党支部"]
    assert (own.published, own.stamped, own.unstamped) == (1, 1, 0)
    # Branch A: its own commitment (withdrawn scan: not counted) and member A's pledge.
    assert (a.published, a.stamped, a.unstamped) == (2, 1, 1)
    assert (rows["第二党支部"].published, rows["第二党支部"].stamped) == (0, 0)
    assert (cov.total.published, cov.total.stamped) == (3, 2)
    assert cov.stamped == {"key": "stamped", "org": 1, "member": 1, "total": 2}


def test_a_scan_of_a_superseded_version_no_longer_counts(world):
    c = published(world, member=world.member_a)
    upload(c, world.staff_a)

    def stamped_count():
        return coverage.coverage_for(world.secretary_a, world.branch_a, world.campaign, today=TODAY).total.stamped

    assert stamped_count() == 1
    c = services.commitment_revise(actor=world.staff_a, commitment=c, version=c.version)
    # Under revision the published version stays public: still counted.
    assert stamped_count() == 1
    services.commitment_submit(actor=world.member_user_a, commitment=c, version=c.version)
    c.refresh_from_db()
    review_decide(actor=world.secretary_a, commitment=c, version=c.version, decision="approve", criteria=ALL_TICKED,
                  opinion="同意")
    c = backdate(c, submitted=timezone.make_aware(datetime.datetime(2010, 11, 1)),
                 approved=timezone.make_aware(datetime.datetime(2010, 11, 3)))
    services.commitment_publish(actor=world.staff_a, commitment=c, version=c.version,
                                published_on=DAY(2010, 11, 5), channels=["internet"])
    c.refresh_from_db()
    assert stamped_count() == 0
    upload(c, world.staff_a, copy="owner")
    assert stamped_count() == 1


def test_the_dashboard_shows_the_figure_and_links_its_lists(stamped, client):
    html = _get(client, stamped.committee_secretary, DASHBOARD).content.decode()
    assert "亮诺（全部承诺）" in html and "已归档盖章件" in html and "其中：已归档盖章件" in html
    a = f"org={stamped.branch_a.pk}&amp;campaign=2010"
    assert f'href="{COMMITMENTS}?{a}&amp;state=stamped"' in html
    assert f'href="{COMMITMENTS}?{a}&amp;state=unstamped"' in html and "（缺1）" in html
    assert "已公开 · 已归档盖章件：" in html  # 统计口径说明


def test_the_commitment_list_filters_by_stamped_form(stamped, client):
    def owners(**params):
        r = _get(client, stamped.committee_secretary, COMMITMENTS, org=stamped.committee.pk, campaign=2010, **params)
        return sorted(c.owner_name for c in r.context["page"]), r.content.decode()

    names, html = owners(state="stamped")
    assert names == sorted(["李娜", "市某局机关党委"]) and "亮诺：已归档盖章件" in html and "已归档" in html
    names, html = owners(state="unstamped")
    assert names == ["第一党支部"] and "未归档" in html


def test_the_excel_report_has_the_same_figures(stamped):
    wb = load_workbook(io.BytesIO(coverage_export(actor=stamped.committee_secretary, org=stamped.committee,
                                                  campaign=stamped.campaign, today=TODAY).read()))
    figures = list(wb["覆盖情况"].iter_rows(values_only=True))
    assert figures[2][11:13] == ("已公开（党组织和党员）", "已归档盖章件")
    body = {r[0]: r for r in figures[3:]}
    assert body["第一党支部"][11:13] == (2, 1)
    assert body["市某局机关党委（本级）"][11:13] == (1, 1)
    assert body["合计"][11:13] == (3, 2)


# --- the query count --------------------------------------------------------------------------

def _subtree(world, n: int, tag: str):
    """A committee with n branches, each with its own commitment, three members (a published
    pledge with progress, its stamped form on file, an assessment, ballots and a tally; a
    deferral; a blank spot)."""
    camp = world.campaign
    committee = make_org(world.root, f"测试党委{tag}", OrgKind.COMMITTEE, code=f"Q{tag}")
    for i in range(n):
        branch = make_org(committee, f"测试支部{tag}-{i}", code=f"Q{tag}-{i}")
        make_commitment(camp, organisation=branch, status="submitted")
        pledged, deferred, _blank = (make_member(branch, f"党员{tag}{i}{k}") for k in "abc")
        c = make_commitment(camp, member=pledged, status="published", items=2)
        c.public_version = c.versions.get()
        c.save(update_fields=["public_version"])
        _progress(c, c.items.first(), world.staff_a, completes=True)
        StampedScan.objects.create(commitment=c, version=c.public_version, copy="public",
                                   path=f"stamped/q-{tag}-{i}.png", original_name="公示联.png",
                                   content_type="image/png", size=1, sha256="0" * 64, uploaded_by=world.staff_a)
        _assess(c, "fulfilled", world.city_secretary, branch)
        _ballots(c, "satisfied", 2)
        MeetingTally.objects.create(commitment=c, held_on=DAY(2010, 11, 20), place="会议室", satisfied=3, basic=1,
                                    unsatisfied=0, recorded_by=world.staff_a)
        Exemption.objects.create(member=deferred, campaign=camp, kind="defer", reason="外出",
                                 makeup_due=DAY(2011, 1, 1), decided_by=world.staff_a)
    return committee


def _count(client, url, params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def test_query_count_does_not_grow_with_the_tree(world, client):
    client.force_login(world.city_secretary)
    small = _subtree(world, 3, "S")
    big = _subtree(world, 30, "B")
    counts = {}
    for name, org in (("small", small), ("big", big)):
        n, response = _count(client, DASHBOARD, {"org": org.pk, "campaign": 2010})
        # The committee's own line (it has not started its commitment) and one per branch.
        assert len(response.context["cov"].rows) == 1 + (3 if name == "small" else 30)
        assert response.context["cov"].total.tally.total == (3 if name == "small" else 30) * 6
        assert response.context["cov"].total.stamped == (3 if name == "small" else 30)
        counts[name] = [n]
        for url in (MEMBERS, ORGS, COMMITMENTS):
            counts[name].append(_count(client, url, {"org": org.pk, "campaign": 2010, "state": "all"})[0])
        counts[name].append(_count(client, COMMITMENTS, {"org": org.pk, "campaign": 2010, "state": "unstamped"})[0])
    assert counts["small"] == counts["big"], counts
    # The root over both (and the persona tree) costs no more: it only has no breadcrumbs to read.
    assert _count(client, DASHBOARD, {"campaign": 2010})[0] <= counts["small"][0]


def test_aggregates_are_a_fixed_number_of_queries(world, django_assert_num_queries):
    from orgs.permissions import scope_for

    committee = _subtree(world, 5, "F")
    scope_for(world.city_secretary)  # the grants, read once per request
    # Children, organisations, members, commitments, overdue items, ballots, tallies.
    with django_assert_num_queries(7):
        coverage.coverage_for(world.city_secretary, committee, world.campaign, today=TODAY)
    # While the window is open, ballots and tallies are not read at all.
    with django_assert_num_queries(5):
        coverage.coverage_for(world.city_secretary, committee, world.campaign, today=DAY(2010, 11, 15))


def test_commitment_rows_are_not_duplicated_by_the_joins(world):
    """Many progress entries, assessments and ballots on one pledge still count it once."""
    _subtree(world, 1, "D")
    c = Commitment.objects.get(member__name="党员D0a")
    for _ in range(3):
        _progress(c, c.items.first(), world.staff_a)
        _assess(c, "partly", world.city_secretary, c.member.branch)
    cov = coverage.coverage_for(world.city_secretary, world.root, world.campaign, today=TODAY)
    funnel = {f["key"]: f["total"] for f in cov.funnel}
    assert funnel["published"] == 1 and funnel["progressed"] == 1 and funnel["assessed"] == 1
    assert {f["key"]: f["total"] for f in cov.fulfilment}["partly"] == 1


def test_big_subtrees_figures_are_cached_and_say_when_they_were_counted(tree, client, settings):
    """Figures that took COVERAGE_CACHE_MIN_SECONDS or more (here: any) are served from the cache
    until they expire; the page says when they were counted and can count again (?fresh=1)."""
    from django.core.cache import cache

    cache.clear()
    settings.COVERAGE_CACHE_SECONDS, settings.COVERAGE_CACHE_MIN_SECONDS = 300, 0
    first = _get(client, tree.committee_secretary, DASHBOARD)
    assert first.context["cov"].counted_at is None and 'data-testid="counted-at"' not in first.content.decode()
    blank = first.context["t"].members_blank
    make_member(tree.branch_b, "新来的")  # one more blank spot
    cached = client.get(DASHBOARD)
    assert cached.context["t"].members_blank == blank
    html = cached.content.decode()
    assert 'data-testid="counted-at"' in html and "每5分钟更新" in html and "fresh=1" in html
    again = client.get(DASHBOARD + f"?org={tree.committee.pk}&fresh=1")
    assert again.context["t"].members_blank == blank + 1 and again.context["cov"].counted_at is None
    assert client.get(DASHBOARD).context["t"].members_blank == blank + 1  # the recount replaced it
    # Small subtrees (counted faster than the threshold) are never cached.
    cache.clear()
    settings.COVERAGE_CACHE_MIN_SECONDS = 60
    client.get(DASHBOARD)
    make_member(tree.branch_b, "又来的")
    assert client.get(DASHBOARD).context["t"].members_blank == blank + 2
    cache.clear()


def test_warm_coverage_counts_the_top_levels_into_the_cache(tree, client, settings):
    import io

    from django.core.cache import cache
    from django.core.management import call_command

    cache.clear()
    settings.COVERAGE_CACHE_SECONDS, settings.COVERAGE_CACHE_MIN_SECONDS = 300, 0
    out = io.StringIO()
    call_command("warm_coverage", stdout=out)
    assert "已统计" in out.getvalue()
    blank = coverage.coverage_for(tree.city_secretary, tree.root, tree.campaign).total.members_blank
    make_member(tree.branch_b, "新来的")
    # The root's figures were counted by the command: served from the cache, with their time.
    cov = coverage.coverage_for(tree.city_secretary, tree.root, tree.campaign)
    assert cov.total.members_blank == blank and cov.counted_at is not None
    call_command("warm_coverage", stdout=out)
    assert coverage.coverage_for(tree.city_secretary, tree.root, tree.campaign).total.members_blank == blank + 1
    cache.clear()
    settings.COVERAGE_CACHE_SECONDS = 0
    call_command("warm_coverage", stdout=out)
    assert "未启用缓存" in out.getvalue()


def test_the_children_table_is_paged_and_the_totals_cover_all(tree, client, monkeypatch):
    monkeypatch.setattr("portal.views.coverage.COVERAGE_ROWS_PER_PAGE", 2)
    first = _get(client, tree.committee_secretary, DASHBOARD)
    rows = list(first.context["rows"])
    assert len(rows) == 2 and first.context["rows"].paginator.count == len(first.context["cov"].rows) == 4
    assert rows[0].is_self  # the 本级 line leads the first page
    html = first.content.decode()
    assert "第 1/2 页" in html and 'rel="next"' in html
    second = client.get(DASHBOARD + "?page=2")
    names = [r.org.name for r in second.context["rows"]]
    assert names and not set(names) & {r.org.name for r in rows}
    # The charts draw the page's children; the totals are the whole subtree's either way.
    assert second.context["chart_data"]["children"]["names"] == [r.org.short_name or r.org.name
                                                                  for r in second.context["rows"]]
    assert second.context["t"].members_total == first.context["t"].members_total


def test_the_member_lists_counts_come_from_the_cache_for_big_subtrees(tree, client, settings):
    """The per-state counts (the filter's badges and the list's length) of a slow subtree are kept
    like the dashboard's; the rows themselves are read live."""
    from django.core.cache import cache

    cache.clear()
    settings.COVERAGE_CACHE_SECONDS, settings.COVERAGE_CACHE_MIN_SECONDS = 300, 0
    first = _get(client, tree.committee_secretary, MEMBERS, state="blank")
    n = first.context["page"].paginator.count
    assert n == len(first.context["page"].object_list) and first.context["counted_at"] is None
    make_member(tree.branch_b, "新来的")
    cached = client.get(MEMBERS, {"state": "blank"})
    assert cached.context["page"].paginator.count == n and cached.context["counted_at"] is not None
    html = cached.content.decode()
    assert 'data-testid="counted-at"' in html and "名单为实时数据" in html and "fresh=1" in html
    fresh = client.get(MEMBERS, {"state": "blank", "fresh": "1"})
    assert fresh.context["page"].paginator.count == n + 1
    assert "新来的" in fresh.content.decode()
    cache.clear()


def test_a_failing_cache_only_costs_time(tree, client, settings, monkeypatch):
    """Redis down or a full disk: the figures are counted for the request, the page still works."""
    from django.core.cache import cache

    def broken(*args, **kwargs):
        raise OSError("cache down")

    settings.COVERAGE_CACHE_SECONDS, settings.COVERAGE_CACHE_MIN_SECONDS = 300, 0
    monkeypatch.setattr(cache, "get", broken)
    monkeypatch.setattr(cache, "set", broken)
    response = _get(client, tree.committee_secretary, DASHBOARD)
    assert response.status_code == 200 and response.context["cov"].counted_at is None
    assert response.context["t"].members_total > 0
