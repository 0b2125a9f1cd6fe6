"""Builders for published commitments (used by the publishing tests and the permission matrix)."""
import datetime

from django.utils import timezone

from commitments import services
from commitments.models import Commitment, CommitmentVersion, ReviewDecision
from reviews.services import review_decide
from tests.conftest import make_commitment

# The builders live in the 2010 campaign: submitted and approved in early October, published on the
# 20th (a publication can never predate its approval).
SUBMITTED_AT = timezone.make_aware(datetime.datetime(2010, 10, 10, 9, 30))
APPROVED_AT = timezone.make_aware(datetime.datetime(2010, 10, 15, 10, 0))

ALL_TICKED = {"advanced": True, "central_work": True, "post_duties": True, "public_wishes": True, "feasible": True}


def approved(world, *, member=None, organisation=None, items=2, drafter=None, reviewer=None):
    """A commitment submitted by `drafter` and approved by `reviewer` through the real services."""
    drafter = drafter or world.staff_a
    c = make_commitment(world.campaign, member=member, organisation=organisation, status="submitted",
                        items=items, actor=drafter)
    if reviewer is None:
        reviewer = world.secretary_a if member is not None else world.committee_secretary
    review_decide(actor=reviewer, commitment=c, version=c.version, decision="approve", criteria=ALL_TICKED,
                  opinion="同意公开。")
    return backdate(c, submitted=SUBMITTED_AT, approved=APPROVED_AT)


def backdate(c, *, submitted, approved):
    """Move the latest submission and its approval into the campaign year (the services stamp
    them with the real time, and a publication may never predate its approval)."""
    latest = CommitmentVersion.objects.filter(commitment=c).order_by("-number").first()
    CommitmentVersion.objects.filter(pk=latest.pk).update(submitted_at=submitted)
    ReviewDecision.objects.filter(version=latest).update(decided_at=approved)
    Commitment.objects.filter(pk=c.pk).update(decided_at=approved, submitted_at=submitted)
    c.refresh_from_db()
    return c


def published(world, *, publisher=None, on=datetime.date(2010, 10, 20), **kw):
    c = approved(world, **kw)
    services.commitment_publish(actor=publisher or world.staff_a, commitment=c, version=c.version, published_on=on,
                                channels=["noticeboard", "internet"])
    c.refresh_from_db()
    return c
