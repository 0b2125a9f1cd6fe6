"""Each person's next duties (the home page's to-do list): exactly what that person can act on
now, each with its deadline and a link that leads to the action (六（三）督促检查).

Whose duty a thing is follows who does it in the guidance, not only who may do it:

* a member writes, submits, confirms and revises their own written pledge and records its
  progress; an oral pledge, or the pledge of a member without an account, is the branch's to
  record;
* the officers of an organisation (grants held on that organisation itself, not inherited from
  above) draft and publish its commitment and its members' pledges (亮诺), see that every member
  pledges, and follow up deferrals (补课);
* secretaries review what is submitted to their organisation; the levels above see which
  organisations below are behind schedule, the reviews waiting below them and the rectification
  orders they issued.

A city-level officer may open and edit a branch member's pledge, but it is not his to revise: he
is shown the organisations behind schedule instead. Each kind of duty is one count query (capped,
see orgs.selectors.capped_count), so the home page costs a fixed number of queries.
"""
import datetime

from django.db.models import Count, Exists, Min, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from commitments.lifecycle import in_force_q, is_in_force
from commitments.models import (LIVE_EXEMPTION_STATUSES, LIVE_STATUSES, Campaign, Commitment, CommitmentStatus,
                                Exemption, ExemptionStatus, Item, ProgressEntry)
from commitments.selectors import exemptions_to_approve_here
from core.pages import capped_count, count_label
from core.templatetags.cn import cn_date
from evaluations.selectors import assessment_todo_count, rectification_todo_counts
from orgs.models import BRANCH_KINDS, Member, MemberStatus, Organisation
from orgs.permissions import OFFICER_ROLES, SECRETARY_ROLES, scope_for
from orgs.selectors import Todo
from reviews.selectors import direct_paths, queue_base

from . import coverage

# Items whose deadline falls within this many days are shown to whoever records their progress.
ITEM_HORIZON_DAYS = 30
# Deferred members whose make-up is due within this many days are shown to their branch.
MAKEUP_HORIZON_DAYS = 14

def when(deadline: datetime.date, today: datetime.date) -> str:
    """截止2010年9月30日，还有3天 / 今天截止 / 已逾期2天."""
    days = (deadline - today).days
    if days < 0:
        return f"{cn_date(deadline)}，已逾期{-days}天"
    return f"{cn_date(deadline)}，今天截止" if days == 0 else f"{cn_date(deadline)}，还有{days}天"


def own_paths(user, roles=OFFICER_ROLES) -> list[str]:
    """The paths of the organisations where the user holds one of `roles` themself."""
    return scope_for(user).paths(roles)


def _active(members: list[Member] | None, user) -> list[Member]:
    """The user's member records on a roll (`members`: those the page already read, if any)."""
    if members is None:
        members = list(Member.objects.filter(user=user).select_related("branch"))
    return [m for m in members if m.status == MemberStatus.ACTIVE]


# --- a member's own pledge ---------------------------------------------------------------------------

def member_duties(user, campaign: Campaign, *, today: datetime.date, members: list[Member] | None = None,
                  pledges: list[Commitment] | None = None) -> list[Todo]:
    """Write, submit, confirm, revise my pledge; record progress on my items near their deadline
    (`pledges`: the user's live pledges in the campaign, when the page has read them already)."""
    members = _active(members, user)
    if not members:
        return []
    todos = []
    if pledges is None:
        pledges = Commitment.objects.filter(campaign=campaign, member__in=members, status__in=LIVE_STATUSES)
    pledges = {c.member_id: c for c in pledges}
    excused = {e.member_id: e for e in Exemption.objects.filter(campaign=campaign, member__in=members,
                                                                status__in=LIVE_EXEMPTION_STATUSES)}
    deadline = when(campaign.pledge_deadline, today)
    for member in members:
        pledge, exemption = pledges.get(member.pk), excused.get(member.pk)
        if pledge is None:
            if exemption is None:
                hint = f"定诺截止{deadline}"
            elif exemption.kind == Exemption.Kind.DEFER:
                hint = f"延期承诺，补课期限{when(exemption.makeup_due, today)}"
            elif exemption.status == ExemptionStatus.APPROVED:
                continue  # exempted
            else:
                hint = f"免于承诺的申请尚待上级党组织认同；定诺截止{deadline}"
            todos.append(Todo("填写我的公开承诺", 1, reverse("commitments:my_pledge"), hint))
        elif pledge.is_oral:
            continue  # recorded by the branch on the member's behalf
        elif pledge.status == CommitmentStatus.CONFIRMING:
            todos.append(Todo("确认我的公开承诺", 1, reverse("commitments:confirm", args=[pledge.pk]),
                              "党支部代为填写了您的公开承诺，请阅读后确认，或写明意见退回修改（四（一）自愿）"))
        elif pledge.status == CommitmentStatus.DRAFT and not is_in_force(pledge) and not pledge.confirmation_note:
            todos.append(Todo("提交我的公开承诺", 1, reverse("commitments:edit", args=[pledge.pk]),
                              f"草稿尚未提交审核；定诺截止{deadline}"))
        elif pledge.status == CommitmentStatus.DRAFT and is_in_force(pledge):
            todos.append(Todo("提交我的承诺修订", 1, reverse("commitments:edit", args=[pledge.pk]),
                              "已公开的承诺正在修订，修订稿须重新提交审核"))
        elif pledge.status == CommitmentStatus.RETURNED:
            todos.append(Todo("按审核意见修改我的公开承诺", 1, reverse("commitments:edit", args=[pledge.pk]),
                              "上级党组织已退回，请修改后重新提交"))
    near = (Item.objects.filter(in_force_q("commitment__"), commitment__campaign=campaign,
                                commitment__member__in=members, commitment__is_oral=False,
                                removed_at__isnull=True, deadline__lte=today + datetime.timedelta(ITEM_HORIZON_DAYS))
            .exclude(Exists(ProgressEntry.objects.filter(item=OuterRef("pk"), completes_item=True)))
            .aggregate(n=Count("id"), pledge=Min("commitment_id"), first=Min("deadline")))
    if near["n"]:
        todos.append(Todo(f"{near['n']} 项承诺事项临近或超过完成时限", near["n"],
                          reverse("commitments:progress", args=[near["pledge"]]),
                          f"最早时限{when(near['first'], today)}；请登记践诺情况"))
    return todos


# --- the officers of an organisation ------------------------------------------------------------------

def _drafted_here(paths: list[str]) -> Q:
    """Commitments the officers at `paths` draft: their organisations' own, and the pledges of
    their members who cannot write their own (oral, or without an account)."""
    return Q(owner_path__in=paths) & (Q(organisation__isnull=False) | Q(is_oral=True) | Q(member__user__isnull=True))


def _own_orgs(user) -> list[Organisation]:
    """The active organisations where the user is an officer themself."""
    paths = own_paths(user)
    return list(Organisation.objects.filter(path__in=paths, is_active=True).order_by("path")) if paths else []


def officer_duties(user, campaign: Campaign, *, today: datetime.date, orgs: list[Organisation]) -> list[Todo]:
    """Members not yet pledged, commitments to submit, revise and publish, make-ups due."""
    if not orgs:
        return []
    paths = [o.path for o in orgs]
    todos = []
    branches = [o for o in orgs if o.is_branch]
    one_org = orgs[0] if len(orgs) == 1 else None
    pledge_deadline = when(campaign.pledge_deadline, today)

    # The organisations' own commitments (the root has nobody above to review it).
    committing = [o for o in orgs if o.parent_id is not None and o.kind in campaign.committing_kinds]
    started = set(Commitment.objects.filter(campaign=campaign, organisation__in=committing, status__in=LIVE_STATUSES)
                  .values_list("organisation_id", flat=True)) if committing else set()
    unstarted = [o for o in committing if o.pk not in started]
    if unstarted:  # ... unless exempted by the level above
        exempted = set(Exemption.objects.filter(campaign=campaign, organisation__in=unstarted,
                                                status=ExemptionStatus.APPROVED).values_list("organisation_id", flat=True))
        unstarted = [o for o in unstarted if o.pk not in exempted]
    for org in unstarted:
        page = "commitments:branch_pledges" if org.is_branch else "orgs:detail"
        todos.append(Todo(f"起草{org.name}的公开承诺", 1, reverse(page, args=[org.pk]), f"定诺截止{pledge_deadline}"))

    # The branches' blank spots (空白点), counted as the coverage list behind the link counts them.
    late = today > campaign.pledge_deadline
    for branch in branches:
        n = capped_count(coverage.member_list(branch, campaign, state="blank", own=True, today=today))
        if n:
            todos.append(Todo(f"{count_label(n)} 名党员尚未提交承诺" + ("" if len(branches) == 1 else f"（{branch.name}）"),
                              n, reverse("portal:coverage_members") + f"?state=blank&org={branch.pk}&own=1",
                              f"未填写、草稿未提交、免于承诺待认同或补课逾期；定诺截止{pledge_deadline}"
                              + ("；请督促本人填写，或代为记录口头承诺、申报免于或延期承诺" if late else "；请督促本人填写")))

    scope = f"&org={one_org.pk}&own=1" if one_org else ""
    drafted = _drafted_here(paths)
    n = Commitment.objects.filter(owner_path__in=paths, campaign=campaign).aggregate(
        draft=Count("id", filter=drafted & Q(status=CommitmentStatus.DRAFT)),
        # Drafted for a member who read it and sent it back with a note (四（一）自愿).
        sent_back=Count("id", filter=Q(status=CommitmentStatus.DRAFT, member__isnull=False,
                                       member__user__isnull=False, is_oral=False) & ~Q(confirmation_note="")),
        returned=Count("id", filter=drafted & Q(status=CommitmentStatus.RETURNED)),
        unpublished=Count("id", filter=Q(status=CommitmentStatus.APPROVED, public_version__isnull=True)))
    if n["draft"]:
        todos.append(Todo(f"{n['draft']} 份代拟的承诺尚未提交审核", n["draft"],
                          reverse("commitments:list") + "?status=draft" + scope,
                          f"本组织的承诺或代为记录的党员承诺；定诺截止{pledge_deadline}"))
    if n["sent_back"]:
        todos.append(Todo(f"{n['sent_back']} 份代拟的党员承诺被本人退回", n["sent_back"],
                          reverse("commitments:list") + "?status=draft" + scope,
                          "党员本人对代为填写的承诺提出了意见，请按意见修改后再请本人确认"))
    if n["returned"]:
        todos.append(Todo(f"{n['returned']} 份代拟的承诺被退回", n["returned"],
                          reverse("commitments:list") + "?status=returned" + scope, "请按审定意见修改后重新提交"))
    if n["unpublished"]:
        todos.append(Todo(f"{n['unpublished']} 份已审定的承诺尚未公开", n["unpublished"],
                          reverse("commitments:list") + "?status=approved" + scope,
                          f"亮诺截止{when(campaign.publish_deadline, today)}；打印承诺书，登记公开"))

    if branches:
        due = (Exemption.objects.filter(campaign=campaign, member__branch__in=branches, kind=Exemption.Kind.DEFER,
                                        status=ExemptionStatus.APPROVED, made_up_on__isnull=True,
                                        makeup_due__lte=today + datetime.timedelta(MAKEUP_HORIZON_DAYS))
               .aggregate(n=Count("id"), first=Min("makeup_due")))
        if due["n"]:
            todos.append(Todo(f"{due['n']} 名延期承诺的党员待补课", due["n"],
                              reverse("portal:coverage_members") + "?state=defer"
                              + (f"&org={branches[0].pk}" if len(branches) == 1 else ""),
                              f"最早补课期限{when(due['first'], today)}"))
    return todos


# --- the levels above --------------------------------------------------------------------------------

def upper_duties(user, campaign: Campaign, *, today: datetime.date, orgs: list[Organisation]) -> list[Todo]:
    """Organisations below the user's that are behind schedule: commitment not submitted after the
    定诺 deadline, approved but not public after the 亮诺 deadline."""
    uppers = [o for o in orgs if o.kind not in BRANCH_KINDS]
    if not uppers or today <= campaign.pledge_deadline:
        return []
    todos = []
    for upper in uppers:
        where = "" if len(uppers) == 1 else f"（{upper.name}以下）"
        coverage_url = reverse("portal:coverage_orgs") + f"?org={upper.pk}&state="
        below = coverage.org_list(upper, campaign).exclude(pk=upper.pk)
        n = capped_count(below.filter(commitment_state__in=coverage.ORG_BLANK_STATES))
        if n:
            todos.append(Todo(f"下级 {count_label(n)} 个党组织逾期未提交承诺{where}", n, coverage_url + "blank",
                              f"尚未填写或草稿未提交；定诺已于{cn_date(campaign.pledge_deadline)}截止，请督促"))
        if today > campaign.publish_deadline:
            n = capped_count(below.filter(commitment_state=CommitmentStatus.APPROVED))
            if n:
                todos.append(Todo(f"下级 {count_label(n)} 个党组织已审定未公开{where}", n,
                                  coverage_url + CommitmentStatus.APPROVED,
                                  f"亮诺已于{cn_date(campaign.publish_deadline)}截止，请督促"))
    return todos


def duties_for(user, campaign: Campaign | None, *, today: datetime.date | None = None,
               members: list[Member] | None = None, pledges: list[Commitment] | None = None) -> list[Todo]:
    """The user's duties of the five steps in the campaign, in the order of the steps (`members`
    and `pledges`: the user's member records and live pledges, when the page has read them)."""
    if campaign is None:
        return []
    today = today or timezone.localdate()
    orgs = _own_orgs(user)
    return (member_duties(user, campaign, today=today, members=members, pledges=pledges)
            + officer_duties(user, campaign, today=today, orgs=orgs)
            + upper_duties(user, campaign, today=today, orgs=orgs))


# --- the home page's to-do area: duties, then reviews, exemptions, rectifications, assessments ---

def todo_counts_for(user, campaign: Campaign | None) -> dict[str, int]:
    """Counts for the home page's to-do area: reviews waiting (own organisations, then the whole
    subtree, as the queue shows them)."""
    if campaign is None:
        return {}
    counts = {}
    scope = scope_for(user)
    if scope.has_any(SECRETARY_ROLES):
        counts["to_review"] = capped_count(queue_base(user, campaign=campaign, include_subtree=False))
    # A branch has no organisations below it: nothing to review or approve there.
    if scope.has_any_above_branches(SECRETARY_ROLES):
        counts["to_review_below"] = capped_count(queue_base(user, campaign=campaign, include_subtree=True)
                                                 .exclude(reviewer_org__path__in=direct_paths(user)))
        counts["exemptions"] = capped_count(exemptions_to_approve_here(user, campaign))
    return counts


def todos_for(user, campaign: Campaign | None, *, members: list[Member] | None = None,
              pledges: list[Commitment] | None = None) -> list:
    """The home page's to-do rows, in the order of the five steps: the person's own duties (see
    duties.py), reviews waiting, and 评诺's rectification to answer or verify (overdue ones
    first) and commitments to assess."""
    counts = todo_counts_for(user, campaign)
    todos = duties_for(user, campaign, members=members, pledges=pledges)
    if counts.get("to_review"):
        todos.append(Todo(f"{count_label(counts['to_review'])} 条待审核", counts["to_review"],
                          reverse("reviews:queue"),
                          "下级党组织或本支部党员提交的公开承诺，请审核把关"))
    if counts.get("to_review_below"):
        todos.append(Todo(f"下级组织 {count_label(counts['to_review_below'])} 条待审核", counts["to_review_below"],
                          reverse("reviews:queue") + "?subtree=on", "由下级党组织审核，可督促其及时办理"))
    if counts.get("exemptions"):
        todos.append(Todo(f"{count_label(counts['exemptions'])} 条免于承诺待审核认同", counts["exemptions"],
                          reverse("commitments:exemption_list") + "?status=proposed",
                          "下级党支部提出的党员免于承诺申请，请根据实际情况审核认同（六（三））"))
    rect, rc = reverse("evaluations:rectifications"), rectification_todo_counts(user)
    if rc["to_answer_overdue"]:
        todos.append(Todo(f"{count_label(rc['to_answer_overdue'])} 条整改逾期", rc["to_answer_overdue"],
                          rect + "?tab=answer&status=open&overdue=on", "已超过整改期限，请尽快整改并反馈整改情况"))
    if rc["to_answer"]:
        todos.append(Todo(f"{count_label(rc['to_answer'])} 条待整改", rc["to_answer"],
                          rect + "?tab=answer&status=open",
                          "上级党组织责令限期整改，请按要求整改后反馈"))
    if rc["to_verify"]:
        todos.append(Todo(f"{count_label(rc['to_verify'])} 条整改待验收", rc["to_verify"],
                          rect + "?tab=verify&status=responded",
                          "承诺单位已反馈整改情况，请验收"))
    if rc["overdue_issued"]:
        todos.append(Todo(f"下达的整改 {count_label(rc['overdue_issued'])} 条逾期", rc["overdue_issued"],
                          rect + "?tab=verify&overdue=on", "已超过整改期限仍未完成，可督促或延长期限"))
    if to_assess := assessment_todo_count(user, campaign):
        todos.append(Todo(f"{count_label(to_assess)} 条待考核", to_assess,
                          reverse("evaluations:list") + "?state=unassessed",
                          "已公开的承诺，请开展组织考核"))
    return todos
