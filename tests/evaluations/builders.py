"""Builders for 评诺 tests: published commitments, ballots, tallies, assessments and orders, all
made through the real services.

The 2010 campaign's public window runs 2010-11-01..2010-12-31: OPEN is a day inside it, CLOSED a
day after it (when results may be released and the public voice counts). The builders at the end
move the window around today instead, for pages that read the real date (the public rating, the
awards basis, the permission matrix).
"""
import datetime
import itertools
import math

from django.utils import timezone

from evaluations import services
from evaluations.models import Fulfilment, Grade
from evaluations.selectors import summary_for, tally_member_count
from orgs.models import Member
from tests.commitments.publishing import published

DAY = datetime.date
OPEN = DAY(2010, 11, 15)
CLOSED = DAY(2011, 1, 5)
DEFAULT_GRADE = {Fulfilment.FULFILLED: Grade.EXCELLENT, Fulfilment.PARTLY: Grade.FAIR,
                 Fulfilment.UNFULFILLED: Grade.POOR}
_seq = itertools.count(1)


def published_pledge(world, member=None, **kw):
    """member_a's written pledge (two items due 2010-12-31), published 2010-10-20; reviewed by branch A."""
    return published(world, member=member or world.member_a, **kw)


def published_org(world, organisation=None, **kw):
    """Branch A's own commitment, published 2010-10-20; reviewed by the committee."""
    return published(world, organisation=organisation or world.branch_a, **kw)


def assessor_for(world, c):
    """The secretary of the commitment's reviewing organisation."""
    return world.secretary_a if c.member_id is not None else world.committee_secretary


def version_of(c) -> int:
    return summary_for(c).version


def fresh_address() -> str:
    """A client address no other ballot in the test used: TEST-NET-3 first, then documentation /64s."""
    n = next(_seq)
    return f"203.0.113.{n}" if n < 255 else f"2001:db8:{n:x}::1"


def fresh_token() -> str:
    return f"token-{next(_seq)}"


def cast(c, rating, n=1, today=OPEN):
    """`n` ballots of `rating` on `c`, each from a new browser and a new client address."""
    return [services.ballot_cast(commitment=c, rating=rating, rater_token=fresh_token(),
                                 client_address=fresh_address(), today=today) for _ in range(n)]


def _count(value) -> int:
    """A vote count as the service will read it, rounded up (so that a bad value is the only error)."""
    try:
        return math.ceil(float(value or 0))
    except (TypeError, ValueError):
        return 0


def tally_recorder_for(world, c):
    """An officer of the commitment's reviewing organisation who is not its owner's."""
    return world.staff_a if c.member_id is not None else world.committee_secretary


def tally(world, c, *, satisfied=0, basic=0, unsatisfied=0, attendees=None, expected=None,
          mass_representatives=None, actor=None, held_on=DAY(2010, 11, 20), place="支部活动室"):
    """A 民主测评 meeting tally recorded by the reviewing organisation (staff A for a pledge, the
    committee's secretary for a branch). Attendance defaults to the votes cast, and the declared
    群众代表 make up whatever the few members of the test world cannot."""
    if attendees is None:
        attendees = sum(_count(v) for v in (satisfied, basic, unsatisfied))
    expected = attendees if expected is None else expected
    if mass_representatives is None:
        mass_representatives = max(0, _count(expected) - tally_member_count(c))
    return services.tally_record(actor=actor or tally_recorder_for(world, c), commitment=c, held_on=held_on,
                                 place=place, satisfied=satisfied, basic=basic, unsatisfied=unsatisfied,
                                 attendees=attendees, expected=expected,
                                 mass_representatives=mass_representatives)


def assessed(world, c, result=Fulfilment.FULFILLED, grade=None, *, actor=None, reason="承诺事项已按期完成。"):
    """An assessment by the reviewing organisation's secretary with the current version."""
    return services.assess(actor=actor or assessor_for(world, c), commitment=c, version=version_of(c),
                           result=result, grade=grade or DEFAULT_GRADE[result], reason=reason)


def released(world, c, *, actor=None, today=CLOSED):
    return services.results_release(actor=actor or assessor_for(world, c), commitment=c, version=version_of(c),
                                    today=today)


def ordered(world, c, *, actor=None, deadline=DAY(2011, 2, 28), today=OPEN, grounds="考核结果为未兑现。",
            required_actions="一个月内完成剩余事项并报告。"):
    """A rectification order, by the reviewing organisation's secretary unless `actor` is given."""
    return services.rectification_order(actor=actor or assessor_for(world, c), commitment=c, grounds=grounds,
                                        required_actions=required_actions, deadline=deadline, today=today)


def responded(world, order, *, actor=None, response="已完成全部事项，附走访台账。"):
    order.refresh_from_db()
    return services.rectification_respond(actor=actor or world.staff_a, order=order, version=order.version,
                                          response=response)


def closed(world, order, *, actor=None, opinion="经核查，整改到位。"):
    order.refresh_from_db()
    return services.rectification_close(actor=actor or order.issued_by, order=order, version=order.version,
                                        opinion=opinion)


def complete_items(world, c, on=DAY(2010, 12, 20)):
    """Mark every published item of `c` done (践诺), so none becomes overdue."""
    from commitments.services.progress import progress_record
    c.refresh_from_db()
    for item in c.public_version.snapshot["items"]:
        progress_record(actor=world.staff_a, commitment=c, item_id=item["id"], happened_on=on,
                        done="全部完成并登记台账", completes_item=True)


# Windows around today: the campaign's 群众评议 window moved relative to the real date, and
# assessments and releases by the secretary above the reviewing organisation.

def window(world, *, opens: int, closes: int) -> None:
    """Set the campaign's 群众评议 window to today+opens .. today+closes (days)."""
    today = timezone.localdate()
    world.campaign.evaluation_opens = today + datetime.timedelta(days=opens)
    world.campaign.evaluation_deadline = today + datetime.timedelta(days=closes)
    world.campaign.save(update_fields=["evaluation_opens", "evaluation_deadline"])


def open_window(world) -> None:
    window(world, opens=-5, closes=5)


def closed_window(world) -> None:
    window(world, opens=-30, closes=-1)


def in_window(world) -> datetime.date:
    """A day inside the (closed) window, for casting ballots through the service."""
    return world.campaign.evaluation_deadline - datetime.timedelta(days=2)


def assess(world, c, *, result="fulfilled", grade="excellent", actor=None):
    actor = actor or _assessor(world, c)
    return services.assess(actor=actor, commitment=c, version=summary_for(c).version, result=result, grade=grade,
                           reason="承诺事项全部按期完成。")


def release(world, c, *, actor=None, **kw):
    """Assess (unless already assessed) and release the results; the window must have closed."""
    actor = actor or _assessor(world, c)
    if not c.assessments.exists():
        assess(world, c, actor=actor, **kw)
    return services.results_release(actor=actor, commitment=c, version=summary_for(c).version)


def _assessor(world, c):
    org = c.reviewer_org
    if org.path.startswith(world.committee.path):
        return world.committee_secretary
    return world.city_secretary


def pledge(world, branch, name, **kw):
    """A published pledge of a new member of `branch`, reviewed by a secretary above it."""
    member = Member.objects.create(branch=branch, name=name, gender="M")
    reviewer = {world.branch_a.pk: world.secretary_a, world.branch_b.pk: world.secretary_b}.get(
        branch.pk, world.city_secretary)
    return published(world, member=member, reviewer=reviewer, drafter=world.reviewer, publisher=world.reviewer, **kw)
