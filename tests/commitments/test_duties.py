"""Each person's next duties: exactly what that person can act on, with the deadline and a link
that leads to the action."""
import datetime

from django.test import Client
from django.urls import reverse

from commitments import services
from commitments.models import Commitment, Exemption, ProgressEntry
from orgs.models import Role
from portal.duties import duties_for
from tests.commitments.publishing import approved, published
from tests.commitments.test_consent import sent_to_member
from tests.conftest import make_commitment, make_member, make_user

SEPT_25 = datetime.date(2010, 9, 25)  # five days before the 定诺 deadline (2010-09-30)
OCT_3 = datetime.date(2010, 10, 3)
NOV_3 = datetime.date(2010, 11, 3)  # after the 亮诺 deadline (2010-10-31)


def _duties(user, world, today):
    return {d.label: d for d in duties_for(user, world.campaign, today=today)}


def _labels(user, world, today):
    return set(_duties(user, world, today))


# --- members -------------------------------------------------------------------------------------

def test_a_member_without_a_pledge_is_asked_to_write_it(world):
    duty = _duties(world.member_user_a, world, SEPT_25)["填写我的公开承诺"]
    assert duty.url == reverse("commitments:my_pledge")
    assert "定诺截止2010年9月30日，还有5天" in duty.hint


def test_a_draft_past_the_deadline_is_a_duty_with_its_delay(world):
    c = make_commitment(world.campaign, member=world.member_a, status="draft", actor=world.member_user_a)
    duty = _duties(world.member_user_a, world, OCT_3)["提交我的公开承诺"]
    assert duty.url == reverse("commitments:edit", args=[c.pk])
    assert "已逾期3天" in duty.hint


def test_a_returned_pledge_is_the_members_to_revise(world):
    c = make_commitment(world.campaign, member=world.member_a, status="returned", actor=world.member_user_a)
    duty = _duties(world.member_user_a, world, OCT_3)["按审核意见修改我的公开承诺"]
    assert duty.url == reverse("commitments:edit", args=[c.pk])
    # ... not the city-level officers', who may read it but whose duty it is not.
    assert not any("退回" in label for label in _labels(world.reviewer, world, OCT_3))
    assert not any("退回" in label for label in _labels(world.secretary_a, world, OCT_3))


def test_exempt_members_and_oral_pledges_give_the_member_nothing_to_do(world):
    Exemption.objects.create(member=world.member_a, campaign=world.campaign, kind="exempt", reason="病重住院",
                             decided_by=world.secretary_a)
    assert _labels(world.member_user_a, world, OCT_3) == set()
    Exemption.objects.update(status="revoked")
    make_commitment(world.campaign, member=world.member_a, status="draft", is_oral=True, recorder=world.staff_a,
                    actor=world.staff_a)
    assert _labels(world.member_user_a, world, OCT_3) == set()
    # The branch records it for the member.
    assert "1 份代拟的承诺尚未提交审核" in _labels(world.staff_a, world, OCT_3)


def test_a_deferred_member_is_asked_to_pledge_by_the_make_up_date(world):
    Exemption.objects.create(member=world.member_a, campaign=world.campaign, kind="defer", reason="外出学习",
                             makeup_due=datetime.date(2010, 11, 5), decided_by=world.secretary_a)
    assert "补课期限2010年11月5日，还有2天" in _duties(world.member_user_a, world, NOV_3)["填写我的公开承诺"].hint


def test_items_near_their_deadline_ask_for_progress_until_completed(world):
    c = published(world, member=world.member_a)
    items = list(c.items.order_by("position"))
    today = datetime.date(2010, 12, 10)  # the items are due 2010-12-31
    duty = _duties(world.member_user_a, world, today)[f"{len(items)} 项承诺事项临近或超过完成时限"]
    assert duty.url == reverse("commitments:progress", args=[c.pk])
    assert "2010年12月31日，还有21天" in duty.hint
    assert not any("时限" in label for label in _labels(world.member_user_a, world, datetime.date(2010, 11, 1)))
    for item in items:
        ProgressEntry.objects.create(commitment=c, item=item, happened_on=today, done="已完成", completes_item=True,
                                     recorded_by=world.member_user_a)
    assert not any("时限" in label for label in _labels(world.member_user_a, world, today))


# --- branch officers -------------------------------------------------------------------------------

def test_branch_officers_see_members_not_yet_pledged_with_the_link_to_them(world):
    make_commitment(world.campaign, member=world.member_a, status="draft", actor=world.member_user_a)
    duty = _duties(world.secretary_a, world, OCT_3)["2 名党员尚未提交承诺"]  # a draft is not a pledge
    assert duty.url == reverse("portal:coverage_members") + f"?state=blank&org={world.branch_a.pk}&own=1"
    assert "代为记录口头承诺、申报免于或延期承诺" in duty.hint  # past the deadline
    assert "代为记录" not in _duties(world.secretary_a, world, SEPT_25)["2 名党员尚未提交承诺"].hint
    make_commitment(world.campaign, member=world.member_a2, status="submitted", actor=world.staff_a)
    assert "1 名党员尚未提交承诺" in _labels(world.secretary_a, world, OCT_3)
    # The committee above has no members of its own on a roll: no such duty there.
    assert not any("名党员尚未提交" in label for label in _labels(world.committee_secretary, world, OCT_3))


def test_branch_officers_draft_their_own_commitment_and_publish_what_was_approved(world):
    assert f"起草{world.branch_a.name}的公开承诺" in _labels(world.staff_a, world, SEPT_25)
    c = approved(world, organisation=world.branch_a)
    labels = _labels(world.staff_a, world, NOV_3)
    assert f"起草{world.branch_a.name}的公开承诺" not in labels
    duty = _duties(world.staff_a, world, NOV_3)["1 份已审定的承诺尚未公开"]
    assert "亮诺截止2010年10月31日，已逾期3天" in duty.hint
    assert duty.url == reverse("commitments:list") + f"?status=approved&org={world.branch_a.pk}&own=1"
    assert c.pk in {x.pk for x in _as_list(world.staff_a, duty.url)}


def _as_list(user, url):
    client = Client()
    client.force_login(user)
    return list(client.get(url).context["page"])


def test_deferrals_due_for_make_up_are_the_branchs(world):
    away = make_member(world.branch_a, "外出党员")
    Exemption.objects.create(member=away, campaign=world.campaign, kind="defer", reason="外出学习",
                             makeup_due=datetime.date(2010, 11, 10), decided_by=world.secretary_a)
    assert "1 名延期承诺的党员待补课" not in _labels(world.secretary_a, world, datetime.date(2010, 10, 1))
    duty = _duties(world.secretary_a, world, NOV_3)["1 名延期承诺的党员待补课"]
    assert "2010年11月10日，还有7天" in duty.hint


# --- the levels above ---------------------------------------------------------------------------------

def test_upper_levels_see_the_organisations_behind_schedule(world):
    # Before the deadline nobody is behind.
    assert not any("逾期" in label for label in _labels(world.committee_secretary, world, SEPT_25))
    make_commitment(world.campaign, organisation=world.branch_a, status="submitted", actor=world.secretary_a)
    make_commitment(world.campaign, organisation=world.branch_b, status="draft", actor=world.secretary_b)
    # Under the committee: branches A (submitted), B (draft), C, and the general branch → 3 behind.
    duty = _duties(world.committee_secretary, world, OCT_3)["下级 3 个党组织逾期未提交承诺"]
    assert duty.url.startswith(reverse("portal:coverage_orgs") + f"?org={world.committee.pk}&")
    approved(world, organisation=world.branch_c)
    labels = _labels(world.committee_secretary, world, NOV_3)
    assert "下级 2 个党组织逾期未提交承诺" in labels and "下级 1 个党组织已审定未公开" in labels


def test_the_home_page_lists_the_duties_with_their_links(world, as_user):
    make_commitment(world.campaign, member=world.member_a, status="returned", actor=world.member_user_a)
    html = as_user(world.member_user_a).get(reverse("home")).content.decode()
    assert "按审核意见修改我的公开承诺" in html
    assert reverse("commitments:edit", args=[Commitment.objects.get().pk]) in html


def test_an_officer_who_is_also_a_member_sees_both(world):
    officer = make_member(world.branch_b, "赵书记")
    user = make_user("dual", world.branch_b, Role.SECRETARY, member=officer)
    labels = _labels(user, world, OCT_3)
    assert "填写我的公开承诺" in labels and "2 名党员尚未提交承诺" in labels


def test_a_proposed_exemption_is_not_yet_in_force_for_the_member(world):
    Exemption.objects.create(member=world.member_a, campaign=world.campaign, kind="exempt", reason="病重住院",
                             status="proposed", proposed_by=world.secretary_a)
    assert "尚待上级党组织认同" in _duties(world.member_user_a, world, OCT_3)["填写我的公开承诺"].hint


def test_organisations_that_need_not_commit_get_no_drafting_duty(world):
    # A 党组 is not a 基层党组织: by default it does not commit (the campaign's setting).
    leader = make_user("dz_secretary", world.committee2, Role.SECRETARY)
    assert not any(label.startswith("起草") for label in _labels(leader, world, SEPT_25))
    # An organisation exempted by the level above has nothing to draft either.
    assert f"起草{world.branch_b.name}的公开承诺" in _labels(world.secretary_b, world, SEPT_25)
    Exemption.objects.create(organisation=world.branch_b, campaign=world.campaign, kind="exempt", reason="已撤销",
                             decided_by=world.committee_secretary)
    assert f"起草{world.branch_b.name}的公开承诺" not in _labels(world.secretary_b, world, SEPT_25)


def test_a_pledge_drafted_for_the_member_asks_the_member_to_confirm_then_the_staff_to_revise(world):
    c = sent_to_member(world)
    duty = _duties(world.member_user_a, world, SEPT_25)["确认我的公开承诺"]
    assert duty.url == reverse("commitments:confirm", args=[c.pk])
    assert not any("代拟" in label for label in _labels(world.staff_a, world, SEPT_25))
    services.commitment_send_back(actor=world.member_user_a, commitment=c, version=c.version, note="第一条我想改。")
    assert "1 份代拟的党员承诺被本人退回" in _labels(world.staff_a, world, SEPT_25)
    assert _labels(world.member_user_a, world, SEPT_25) == set()  # the branch revises it now


def test_a_revision_of_a_published_pledge_is_the_members_to_submit(world):
    c = published(world, member=world.member_a)
    c = services.commitment_revise(actor=world.member_user_a, commitment=c, version=c.version)
    duty = _duties(world.member_user_a, world, NOV_3)["提交我的承诺修订"]
    assert duty.url == reverse("commitments:edit", args=[c.pk])
