"""Commitments follow their owner when orgs moves it: a member transferred to another branch, an
organisation moved under another parent (orgs.signals; connected in CommitmentsConfig.ready).

The owner's path (Commitment.owner_path) always follows. The review follows too while it is still
to come: a commitment not yet approved is reviewed by the owner's current reviewing organisation
(the member's branch, the organisation's parent, 四（二）), so the new one can approve it and the
old one no longer reads it. Approved and published commitments keep the reviewer who decided them.
"""
from django.db.models import F, Value
from django.db.models.functions import Concat, Length, Substr

from orgs import audit

from ..models import Commitment, CommitmentStatus

# Not yet decided: the review is still to come (or under way, or to be repeated after a return).
UNDECIDED_STATUSES = (CommitmentStatus.DRAFT, CommitmentStatus.CONFIRMING, CommitmentStatus.SUBMITTED,
                      CommitmentStatus.RETURNED)


def _hand_over(*, actor, commitments, to_org, reason: str) -> int:
    """Point the undecided `commitments` at `to_org` for review, one audit row each."""
    moved = list(commitments.filter(status__in=UNDECIDED_STATUSES).exclude(reviewer_org=to_org)
                 .select_for_update().select_related("reviewer_org"))
    if not moved:
        return 0
    # The version bump makes a reviewer's page opened before the move stale (compare-and-set).
    Commitment.objects.filter(pk__in=[c.pk for c in moved]).update(reviewer_org=to_org, version=F("version") + 1)
    audit.record_many(actor=actor, entries=[
        audit.Entry(action="commitment.reviewer_move", obj=c, organisation=to_org,
                    detail={"from": c.reviewer_org_id, "to": to_org.pk, "status": c.status, "reason": reason})
        for c in moved])
    return len(moved)


def commitments_follow_member(*, actor, member, to_branch) -> int:
    """Called by orgs.services.member_transfer (officers over both branches), inside its
    transaction: the member's pledges move to the new branch, which reviews the undecided ones."""
    Commitment.objects.filter(member=member).update(owner_path=to_branch.path)
    return _hand_over(actor=actor, commitments=Commitment.objects.filter(member=member), to_org=to_branch,
                      reason="member.transfer")


def commitments_follow_organisation(*, actor, org, old_path: str, new_path: str, new_parent) -> int:
    """Called by orgs.services.organisation_move (administrators over both parents), inside its
    transaction: the subtree's commitments take the new paths; the organisation's own undecided
    commitment is reviewed by its new parent (the others keep their reviewers, who moved with them)."""
    Commitment.objects.filter(owner_path__startswith=old_path).update(
        owner_path=Concat(Value(new_path), Substr("owner_path", len(old_path) + 1, Length("owner_path"))))
    return _hand_over(actor=actor, commitments=Commitment.objects.filter(organisation=org), to_org=new_parent,
                      reason="org.move")


def on_member_transferred(sender, *, member, from_branch, to_branch, actor, **kwargs):
    commitments_follow_member(actor=actor, member=member, to_branch=to_branch)


def on_organisation_moved(sender, *, org, old_path, new_path, old_parent_id, new_parent, actor, **kwargs):
    commitments_follow_organisation(actor=actor, org=org, old_path=old_path, new_path=new_path,
                                    new_parent=new_parent)
