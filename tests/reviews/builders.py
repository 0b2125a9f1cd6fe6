"""Small builders for review tests: submitted commitments, and a second version made through the
real services (return → edit → resubmit)."""
import datetime

from django.utils import timezone

from commitments.models import CRITERIA, Decision
from commitments.services.lifecycle import commitment_save_draft, commitment_submit
from reviews.services import review_decide
from tests.conftest import make_commitment, make_member

ALL_MET = {key: True for key, _ in CRITERIA}


def submitted(world, *, member=None, organisation=None, minutes_ago=60, items=2, **kw):
    """A commitment in `submitted` with frozen version 1, submitted `minutes_ago`."""
    if member is None and organisation is None:
        member = make_member(world.branch_a, "赵敏")
    return make_commitment(world.campaign, member=member, organisation=organisation, status="submitted",
                           items=items, submitted_at=timezone.now() - datetime.timedelta(minutes=minutes_ago), **kw)


def approve(commitment, actor, **kw):
    commitment.refresh_from_db()
    return review_decide(actor=actor, commitment=commitment, version=commitment.version,
                         decision=Decision.APPROVE, criteria=ALL_MET, opinion=kw.pop("opinion", "同意。"), **kw)


def return_for_changes(commitment, actor, opinion="请把措施写具体。"):
    commitment.refresh_from_db()
    return review_decide(actor=actor, commitment=commitment, version=commitment.version,
                         decision=Decision.RETURN, criteria={}, opinion=opinion)


def resubmit(commitment, *, reviewer, editor, goal=None, edit=None):
    """Return the commitment, let `edit(items)` change the item dicts, resubmit: version 2."""
    return_for_changes(commitment, reviewer)
    commitment.refresh_from_db()
    items = [{"id": i.pk, "content": i.content, "measures": i.measures, "deadline": i.deadline,
              "responsible": i.responsible}
             for i in commitment.items.filter(removed_at__isnull=True).order_by("position")]
    if edit is not None:
        items = edit(items)
    commitment = commitment_save_draft(actor=editor, commitment=commitment, version=commitment.version,
                                       goal=goal if goal is not None else commitment.goal, items=items)
    commitment_submit(actor=editor, commitment=commitment, version=commitment.version, consent="in_person")
    commitment.refresh_from_db()
    return commitment
