"""Demo commitments for `seed_demo`: every state of 定诺/审诺 in the demo branches, written through
the same services the pages use (so the audit trail and versions are real).

Runs only while the campaign has no commitments at all, so a second seed adds nothing and
never disturbs what a demo user has done since.
"""
import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone

from orgs.models import Member, MemberCategory, MemberStatus, Organisation

from . import services
from .models import Commitment, Suggestion

User = get_user_model()

ORG_GOAL = "创建“五个好”先进党支部，做到领导班子好、党员队伍好、工作机制好、工作业绩好、群众反映好"
ORG_ITEMS = [
    ("开展“学理论、强素质”读书活动，每月组织一次集中学习", "制定学习计划，支部书记带头讲党课，每季度开展一次学习交流",
     "支部书记"),
    ("推行“一站式”政务服务，窗口办件按时办结率达到100%", "梳理办事流程，公开办事指南和时限，实行首问负责和限时办结",
     "组织委员"),
    ("结对帮扶社区困难家庭，年内为群众办实事不少于5件", "每名党员联系一户困难家庭，每季度走访一次并登记台账",
     "宣传委员"),
]
PLEDGE_GOAL = "争当立足岗位、服务群众的优秀共产党员"
PLEDGE_ITEMS = [
    ("带头学习实践科学发展观，每季度撰写一篇学习体会", "参加支部每月集中学习，自学《科学发展观重要论述摘编》"),
    ("立足岗位做到“五带头”，全年经办事项零差错、零投诉", "落实首问负责制和限时办结制，主动公开办事进度"),
    ("为社区困难群众办两件实事", "结对帮扶一户困难家庭，逢年过节上门走访慰问"),
]
SUGGESTIONS = [
    ("希望窗口中午时段安排人员值班，方便上班族办事。", "13800006621"),
    ("办事指南能否在网站上公开，并写明需要带哪些材料。", ""),
    ("建议机关党员到社区开展一次政策宣讲。", ""),
]


def _items(year: int, rows, *, with_responsible: bool) -> list[dict]:
    deadlines = [datetime.date(year, 12, 31), datetime.date(year, 11, 30), datetime.date(year, 12, 15)]
    return [{"content": content, "measures": measures, "deadline": deadlines[n % 3],
             "responsible": (rest[0] if rest else "") if with_responsible else ""}
            for n, (content, measures, *rest) in enumerate(rows)]


def _draft(actor, campaign, *, organisation=None, member=None, is_oral=False, n_items=2):
    c = services.commitment_start(actor=actor, campaign=campaign, organisation=organisation, member=member,
                                  is_oral=is_oral)
    if organisation is not None:
        items = _items(campaign.year, ORG_ITEMS[:n_items], with_responsible=True)
        goal = ORG_GOAL
    else:
        items = _items(campaign.year, PLEDGE_ITEMS[:n_items], with_responsible=False)
        goal = PLEDGE_GOAL
    return services.commitment_save_draft(actor=actor, commitment=c, version=c.version, goal=goal, items=items)


def _submit(actor, c):
    services.commitment_submit(actor=actor, commitment=c, version=c.version)
    c.refresh_from_db()
    return c


def _publish(actor, c):
    c.refresh_from_db()
    services.commitment_publish(actor=actor, commitment=c, version=c.version,
                                published_on=timezone.localdate(),
                                channels=["meeting", "noticeboard", "internet"])


def seed_commitments(campaign, *, branch_code: str, sibling_code: str) -> int:
    """Fill branch A (and its sibling) with commitments in every state; return how many were made."""
    from reviews.services import review_decide

    if Commitment.objects.filter(campaign=campaign).exists():
        return 0
    users = {u.username: u for u in User.objects.filter(
        username__in=["member", "zb_staff", "zb_secretary", "zb2_secretary", "dw_secretary"])}
    if len(users) < 5:
        return 0
    branch = Organisation.objects.get(code=branch_code)
    sibling = Organisation.objects.get(code=sibling_code)
    staff, secretary, committee_secretary = users["zb_staff"], users["zb_secretary"], users["dw_secretary"]
    all_ticked = {"advanced": True, "central_work": True, "post_duties": True, "public_wishes": True,
                  "feasible": True}
    made = 0

    # The branch's own commitment waits for the committee (dw_secretary's queue).
    _submit(staff, _draft(staff, campaign, organisation=branch, n_items=3))
    # The sibling branch's was approved.
    sibling_staff = users["zb2_secretary"]
    c = _submit(sibling_staff, _draft(sibling_staff, campaign, organisation=sibling, n_items=3))
    review_decide(actor=committee_secretary, commitment=c, version=c.version, decision="approve",
                  criteria=all_ticked, opinion="承诺事项符合支部实际，同意公开。")
    _publish(sibling_staff, c)
    made += 2

    # The member's own pledge is a draft they can finish (the `member` demo account).
    own = users["member"].member
    _draft(users["member"], campaign, member=own, n_items=2)
    made += 1

    others = list(Member.objects.filter(branch=branch, status=MemberStatus.ACTIVE, user__isnull=True)
                  .exclude(category__in=(MemberCategory.ELDERLY, MemberCategory.RETIRED)).order_by("id"))
    leaders = [m for m in others if m.category == MemberCategory.LEADER]
    plain = [m for m in others if m.category != MemberCategory.LEADER]
    # Waiting for the branch secretary (zb_secretary's queue), one of them a leader's.
    for m in plain[:3] + leaders[:1]:
        _submit(staff, _draft(staff, campaign, member=m, n_items=3))
        made += 1
    # Approved (the first one also published on the noticeboard), and one returned with guidance.
    for n, m in enumerate(plain[3:5]):
        c = _submit(staff, _draft(staff, campaign, member=m, n_items=2))
        review_decide(actor=secretary, commitment=c, version=c.version, decision="approve", criteria=all_ticked,
                      opinion="承诺内容具体可行，同意。")
        if n == 0:
            _publish(staff, c)
            c.refresh_from_db()
            # 践诺: a public progress entry on the first item.
            first_item = c.public_version.snapshot["items"][0]["id"]
            services.progress_record(actor=staff, commitment=c, item_id=first_item,
                                     happened_on=min(datetime.date.today(), c.campaign.evaluation_deadline),
                                     done="参加支部集中学习3次，撰写学习体会一篇并在支部会上交流。",
                                     effect="带动本科室同志共同学习，形成学习笔记汇编。", is_public=True)
        made += 1
    for m in plain[5:6]:
        c = _submit(staff, _draft(staff, campaign, member=m, n_items=1))
        review_decide(actor=secretary, commitment=c, version=c.version, decision="return", criteria={},
                      opinion="措施过于笼统，请结合岗位写明为群众办的实事和完成时间。")
        made += 1
    # An oral pledge recorded by staff for an elderly member.
    elderly = Member.objects.filter(branch=branch, status=MemberStatus.ACTIVE,
                                    category__in=(MemberCategory.ELDERLY, MemberCategory.RETIRED)).first()
    if elderly is not None:
        _submit(staff, _draft(staff, campaign, member=elderly, is_oral=True, n_items=1))
        made += 1
    # One member away on assignment: deferred, to make up later.
    if len(plain) > 6:
        services.exemption_grant(actor=staff, member=plain[6], campaign=campaign, kind="defer",
                                 reason="借调市重点项目指挥部，暂不在岗",
                                 makeup_due=max(campaign.publish_deadline, datetime.date.today())
                                 + datetime.timedelta(days=30))
    # Opinions gathered before drafting: the public box, and a symposium staff recorded.
    for content, contact in SUGGESTIONS:
        services.suggestion_submit_public(organisation=branch, content=content, contact=contact)
    services.opinion_record(actor=staff, organisation=branch, channel=Suggestion.Channel.SYMPOSIUM,
                            content="与会群众代表希望进一步简化办事材料，推行网上预约。",
                            held_on=datetime.date(campaign.year, 3, 12), place="局三楼会议室",
                            participants="服务对象代表8人、支部党员12人")
    # The city committee publishes the guidance's reference items for everyone below it.
    root = Organisation.objects.filter(pk=branch.ancestor_ids[0]).first()
    reviewer = User.objects.filter(username="reviewer").first()
    if root is not None and reviewer is not None:
        services.references_import_guidance(actor=reviewer, organisation=root)
    from evaluations.demo import seed_evaluations
    seed_evaluations(campaign)
    return made
