"""Demo 评诺 for `seed_demo`: on the commitments portal/demo.py published, a leader's
comment, a few online ballots, a 民主测评 meeting tally and one assessment, all written through
the services the pages use.

Runs only while the campaign has no ballot, comment or assessment at all, so a second seed adds
nothing; does nothing when the demo accounts are missing. Ballots go in only while the public
window is open (the demo campaign is the current year, so in November and December).
"""
from django.contrib.auth import get_user_model
from django.utils import timezone

from commitments.lifecycle import in_force_q
from commitments.models import Campaign, Commitment
from orgs.models import RoleGrant

from . import services
from .models import Assessment, Ballot, Fulfilment, Grade, LeaderComment, Rating
from .permissions import can_assess, can_comment_as_leader, can_record_tally
from .selectors import summary_for, tally_member_count

User = get_user_model()
DEMO_USERS = ("zb_secretary", "zb_staff", "dw_secretary")
# (rating, remark) of the public's ballots on each commitment; addresses are TEST-NET-3 (RFC 5737).
PLEDGE_BALLOTS = [
    (Rating.SATISFIED, "经常到社区走访，办事热情。"),
    (Rating.SATISFIED, ""),
    (Rating.BASIC, "希望办事进度能更及时公开。"),
]
ORG_BALLOTS = [
    (Rating.SATISFIED, "窗口服务比去年快多了。"),
    (Rating.BASIC, ""),
]


def _related(qs):
    return qs.select_related("campaign", "organisation", "member__branch", "reviewer_org", "public_version")


def seed_evaluations(campaign: Campaign) -> int:
    """Add demo 评诺 rows to the campaign's published demo commitments; return how many were made."""
    if (Ballot.objects.filter(commitment__campaign=campaign).exists()
            or LeaderComment.objects.filter(commitment__campaign=campaign).exists()
            or Assessment.objects.filter(commitment__campaign=campaign).exists()):
        return 0
    users = {u.username: u for u in User.objects.filter(username__in=DEMO_USERS)}
    if len(users) < len(DEMO_USERS):
        return 0
    branch_secretary, staff, committee_secretary = (users[name] for name in DEMO_USERS)
    branch_grant = RoleGrant.objects.filter(user=branch_secretary).select_related("organisation").first()
    if branch_grant is None:
        return 0
    branch = branch_grant.organisation
    published = Commitment.objects.filter(in_force_q(), campaign=campaign)
    pledge = _related(published.filter(member__branch=branch)).order_by("id").first()
    # The sibling branch's own commitment, which the committee (dw_secretary) reviews.
    sibling = _related(published.filter(organisation__parent_id=branch.parent_id)
                       .exclude(organisation=branch)).order_by("id").first()
    today = timezone.localdate()
    window_open = campaign.rating_state(today) == "open"
    made = 0

    if pledge is not None:
        if can_comment_as_leader(branch_secretary, pledge):
            services.leader_comment_save(
                actor=branch_secretary, commitment=pledge, rating=Rating.SATISFIED,
                comment="能立足岗位践行承诺，学习体会扎实，服务群众主动热情。希望继续抓好为群众办实事事项的落实。")
            made += 1
        if window_open:
            made += _ballots(pledge, PLEDGE_BALLOTS, first_host=11, today=today)
        if can_record_tally(staff, pledge):
            # A branch meeting: its members plus the 群众代表 invited from the service window.
            members = tally_member_count(pledge)
            guests = max(20, 25 - members)
            services.tally_record(actor=staff, commitment=pledge, held_on=today, place="局三楼会议室",
                                  satisfied=18, basic=4, unsatisfied=1, attendees=25,
                                  expected=members + guests, mass_representatives=guests)
            made += 1
    if sibling is not None:
        if window_open:
            made += _ballots(sibling, ORG_BALLOTS, first_host=31, today=today)
        if can_assess(committee_secretary, sibling):
            services.assess(actor=committee_secretary, commitment=sibling,
                            version=summary_for(sibling, today=today).version, result=Fulfilment.FULFILLED,
                            grade=Grade.GOOD,
                            reason="承诺事项均已按期完成，窗口按时办结率达到100%，群众反映较好。")
            made += 1
    return made


def _ballots(commitment: Commitment, rows, *, first_host: int, today) -> int:
    for n, (rating, remark) in enumerate(rows):
        services.ballot_cast(commitment=commitment, rating=rating, remark=remark,
                             rater_token=f"demo-rater-{commitment.pk}-{n}",
                             client_address=f"203.0.113.{first_host + n}", today=today)
    return len(rows)
