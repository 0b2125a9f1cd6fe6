"""四（二）review that guides: all five requirements to approve, guidance to return, bulk approval
only for routine pledges the reviewer saw listed with their items, and never one's own commitment;
the review page shows how the member agreed (四（一）自愿)."""
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from commitments import services as commitment_services
from commitments.models import CommitmentStatus, CommitmentVersion, Decision, ReviewDecision
from orgs.models import MemberCategory, Role, RoleGrant
from reviews.selectors import bulk_approval_blockers, review_queue_for
from reviews.services import review_bulk_approve, review_decide
from tests.conftest import make_member

from .builders import ALL_MET, submitted

S = CommitmentStatus
BULK = reverse("reviews:bulk_approve")


def _shown(html):
    return re.search(r'name="shown" value="([^"]+)"', html).group(1)


# --- no one judges their own commitment ------------------------------------------------------

def _secretary_of_both(world):
    """The committee's secretary who is also the secretary of branch A (a common double post)."""
    RoleGrant.objects.create(user=world.committee_secretary, organisation=world.branch_a, role=Role.SECRETARY)
    return world.committee_secretary


def test_a_secretary_cannot_approve_their_own_organisations_commitment(world, as_user):
    boss = _secretary_of_both(world)
    c = submitted(world, organisation=world.branch_a, actor=world.staff_a)
    with pytest.raises(PermissionDenied):
        review_decide(actor=boss, commitment=c, version=c.version, decision=Decision.APPROVE, criteria=ALL_MET,
                      opinion="同意。")
    with pytest.raises(PermissionDenied):
        review_decide(actor=boss, commitment=c, version=c.version, decision=Decision.RETURN, criteria={},
                      opinion="请修改。")
    assert c not in review_queue_for(boss, campaign=world.campaign, include_subtree=True)
    client = as_user(boss)
    assert client.get(reverse("reviews:review", args=[c.pk])).status_code == 404
    html = client.get(reverse("commitments:detail", args=[c.pk])).content.decode()
    assert reverse("reviews:review", args=[c.pk]) not in html  # the button is not drawn
    # The city's secretary, above, still may.
    review_decide(actor=world.city_secretary, commitment=c, version=c.version, decision=Decision.APPROVE,
                  criteria=ALL_MET, opinion="同意。")


def test_bulk_refuses_ones_own_organisations_commitment(world):
    boss = _secretary_of_both(world)
    c = submitted(world, organisation=world.branch_a, actor=world.staff_a)
    approved, failed = review_bulk_approve(actor=boss, targets=[(c.pk, c.version)], shown={(c.pk, c.version)},
                                           opinion="同意。")
    assert approved == [] and failed == {c.pk: "该承诺不存在或您无权处理。"}


def test_staff_who_sent_a_pledge_to_its_member_cannot_review_it(world):
    RoleGrant.objects.create(user=world.staff_a, organisation=world.branch_a, role=Role.DEPUTY_SECRETARY)
    c = commitment_services.commitment_start(actor=world.staff_a, campaign=world.campaign, member=world.member_a)
    c = commitment_services.commitment_save_draft(actor=world.staff_a, commitment=c, version=c.version, goal="先锋",
                                                  items=[{"content": "学习", "measures": "每周",
                                                          "deadline": world.campaign.evaluation_deadline}])
    commitment_services.commitment_submit(actor=world.staff_a, commitment=c, version=c.version)
    c.refresh_from_db()
    commitment_services.commitment_confirm(actor=world.member_user_a, commitment=c, version=c.version)
    c.refresh_from_db()
    with pytest.raises(PermissionDenied):
        review_decide(actor=world.staff_a, commitment=c, version=c.version, decision=Decision.APPROVE,
                      criteria=ALL_MET, opinion="同意。")


# --- bulk approval ---------------------------------------------------------------------------

def test_bulk_blockers_name_leaders_oral_and_organisations(world):
    leader = submitted(world, member=make_member(world.branch_a, "周局长", category=MemberCategory.LEADER))
    oral = submitted(world, member=world.member_a2, is_oral=True, recorder=world.staff_a)
    org = submitted(world, organisation=world.branch_a)
    plain = submitted(world, member=make_member(world.branch_a, "孙平"))
    assert "领导干部" in bulk_approval_blockers(leader)[0]
    assert bulk_approval_blockers(oral) == ["口头承诺须逐条审核"]
    assert bulk_approval_blockers(org) == ["党组织的承诺须逐条审核"]
    assert bulk_approval_blockers(plain) == []


def test_bulk_service_refuses_ineligible_and_unshown_pledges(world):
    leader = submitted(world, member=make_member(world.branch_a, "周局长", category=MemberCategory.LEADER))
    oral = submitted(world, member=world.member_a2, is_oral=True, recorder=world.staff_a)
    plain, unseen = (submitted(world, member=make_member(world.branch_a, n)) for n in ("孙平", "未列出"))
    targets = [(c.pk, c.version) for c in (leader, oral, plain, unseen)]
    shown = {(c.pk, c.version) for c in (leader, oral, plain)}
    approved, failed = review_bulk_approve(actor=world.secretary_a, targets=targets, shown=shown, opinion="同意。")
    assert approved == [plain.pk]
    assert "领导干部" in failed[leader.pk] and "口头承诺" in failed[oral.pk]
    assert failed[unseen.pk] == "未在批量审定页面列出，请逐条审核。"
    assert list(ReviewDecision.objects.values_list("commitment_id", flat=True)) == [plain.pk]


def test_bulk_page_lists_eligible_pledges_with_items_and_the_rest_with_reasons(world, as_user):
    plain = submitted(world, member=make_member(world.branch_a, "孙平"), items=2)
    leader = submitted(world, member=make_member(world.branch_a, "周局长", category=MemberCategory.LEADER))
    html = as_user(world.secretary_a).get(BULK).content.decode()
    assert f'name="targets" value="{plain.pk}:{plain.version}"' in html
    assert "承诺事项2：为群众办实事" in html and "措施2" in html  # the items, read before ticking
    assert f'value="{leader.pk}:{leader.version}"' not in html
    assert "周局长" in html and "领导干部的承诺标准应高于其他党员，须逐条审核" in html


def test_bulk_post_approves_only_what_the_page_showed(world, as_user):
    plain = submitted(world, member=make_member(world.branch_a, "孙平"))
    client = as_user(world.secretary_a)
    shown = _shown(client.get(BULK).content.decode())
    later = submitted(world, member=make_member(world.branch_a, "后提交"))  # not on the page that was read
    response = client.post(BULK, {"targets": [f"{plain.pk}:{plain.version}", f"{later.pk}:{later.version}"],
                                  "shown": shown, "opinion": "符合要求，同意。"})
    assert response.status_code == 302
    plain.refresh_from_db()
    later.refresh_from_db()
    assert plain.status == S.APPROVED and later.status == S.SUBMITTED


def test_bulk_post_with_a_forged_or_foreign_list_is_refused(world, as_user):
    plain = submitted(world, member=make_member(world.branch_a, "孙平"))
    other = as_user(world.committee_secretary)
    foreign = _shown(other.get(BULK + "?subtree=on").content.decode())
    client = as_user(world.secretary_a)
    for shown in ("forged", foreign):
        response = client.post(BULK, {"targets": [f"{plain.pk}:{plain.version}"], "shown": shown, "opinion": "同意"})
        assert response.status_code == 200 and "页面已过期" in response.content.decode()
    plain.refresh_from_db()
    assert plain.status == S.SUBMITTED


def test_bulk_page_query_count_does_not_grow(world, client, django_assert_max_num_queries):
    client.force_login(world.secretary_a)

    def grow(n, tag):
        for i in range(n):
            submitted(world, member=make_member(world.branch_a, f"{tag}{i}",
                                                category=MemberCategory.LEADER if i % 2 else MemberCategory.GENERAL),
                      items=3)

    def count():
        with django_assert_max_num_queries(14) as ctx:
            assert client.get(BULK).status_code == 200
        return len(ctx.captured_queries)

    grow(1, "甲")
    small = count()
    grow(10, "乙")
    assert count() == small


@pytest.mark.parametrize("who", ["staff_a", "member_user_a", "outsider"])
def test_bulk_page_is_404_for_non_secretaries(world, as_user, who):
    assert as_user(getattr(world, who)).get(BULK).status_code == 404


# --- the review page shows how the member agreed ---------------------------------------------

@pytest.mark.parametrize("consent,text", [
    ("self", "本人提交"), ("confirmed", "本人确认于"), ("phone", "由一支部组织委员于"), ("in_person", "当面征得本人同意")])
def test_review_page_shows_the_members_agreement(world, as_user, consent, text):
    c = submitted(world, member=make_member(world.branch_a, "孙平"))
    by = world.staff_a if consent in ("phone", "in_person") else world.member_user_a
    CommitmentVersion.objects.filter(commitment=c).update(consent=consent, consent_by=by,
                                                          consent_at=c.submitted_at)
    html = as_user(world.secretary_a).get(reverse("reviews:review", args=[c.pk])).content.decode()
    assert "本人意愿" in html and text in html
