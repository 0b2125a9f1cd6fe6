"""Permission-matrix entries for 群众评议 on the noticeboard and the awards basis, plus builders the
public and awards tests share (windows around today, assessing and releasing through the services)."""
import datetime

from django.utils import timezone

from evaluations import services
from evaluations.selectors import summary_for
from orgs.models import Member
from tests.commitments.publishing import approved, published
from tests.matrix_common import PERSONAS, Spec, attr
from tests.orgs.matrix import ORG_READ, ORG_TARGETS


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


def prepare(world):
    """A published and an approved (unpublished) pledge in branch A, to rate."""
    world.rate_published = pledge(world, world.branch_a, "评议甲")
    member = Member.objects.create(branch=world.branch_a, name="评议乙", gender="F")
    world.rate_unpublished = approved(world, member=member, reviewer=world.secretary_a, drafter=world.reviewer)


EVERYONE = {p: {"published"} for p in PERSONAS}

MATRIX = {
    # Anyone rates a published commitment (an empty POST re-shows the form); nothing unpublished.
    "evaluations:rate": Spec({"published": attr("rate_published"), "unpublished": attr("rate_unpublished")},
                             EVERYONE, methods=("POST",), public=True),
    # The awards basis: readers of the organisation's subtree (officers, not the admin).
    "evaluations:awards": Spec(ORG_TARGETS, ORG_READ, methods=("GET",)),
    "evaluations:awards_xlsx": Spec(ORG_TARGETS, ORG_READ, methods=("GET",)),
}
