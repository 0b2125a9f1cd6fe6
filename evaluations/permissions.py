"""Who may take part in 评诺. "Who" only: whether the window or the state allows it is the services'.

* 领导点评 — comes from the level above (四（五）): secretaries (书记/副书记) of the reviewing
  organisation or of one above it; for a member's pledge that is the branch's own secretary.
* 民主测评 tallies — officers of the reviewing organisation or above record the paper ballots
  counted at the meeting, so the figures that rank a commitment never come from its owner.
* Nobody comments on, or records a tally for, what is theirs: their own pledge, or the commitment
  of an organisation they hold a role in or belong to (even when they also hold a role above).
* 组织考核, releasing results and 责令整改 — secretaries of the reviewing organisation or above
  (a parent supervises its whole subtree, 六（二）). Never on one's own pledge.
* Answering a rectification order — the drafters (officers over the owner, the member on a
  written pledge); closing or extending it — secretaries of the issuing organisation or above.
"""
from commitments.permissions import can_record_progress, can_view_commitment, is_own_pledge
from orgs.models import Organisation
from orgs.permissions import OFFICER_ROLES, READER_ROLES, SECRETARY_ROLES, scope_for


def owner_org(commitment) -> Organisation:
    """The organisation a commitment belongs to: the branch for a member's pledge."""
    return commitment.owner_org


def acting_org(user, target: Organisation, roles) -> Organisation | None:
    """The nearest organisation at or above `target` where the user holds one of `roles`."""
    best = None
    for grant in scope_for(user).grants:
        if grant.role in roles and target.path.startswith(grant.path):
            if best is None or len(grant.path) > len(best.path):
                best = grant
    if best is None:
        return None
    return Organisation.objects.get(pk=best.organisation_id)


def is_their_own(user, commitment) -> bool:
    """The user's own pledge, or the commitment of an organisation where the user holds a role
    directly or is a member."""
    if is_own_pledge(user, commitment):
        return True
    if commitment.member_id is not None:
        return False
    owner_id = commitment.organisation_id
    if any(g.organisation_id == owner_id for g in scope_for(user).grants):
        return True
    member = getattr(user, "member", None) if getattr(user, "is_authenticated", False) else None
    return member is not None and member.branch_id == owner_id


def can_view_evaluation(user, commitment) -> bool:
    return can_view_commitment(user, commitment)


def can_comment_as_leader(user, commitment) -> bool:
    """Secretaries of the reviewing organisation or above, never on what is their own."""
    return (scope_for(user).reaches(commitment.reviewer_org.path, SECRETARY_ROLES)
            and not is_their_own(user, commitment))


def can_record_tally(user, commitment) -> bool:
    """Officers of the reviewing organisation or above, never on what is their own."""
    return (scope_for(user).reaches(commitment.reviewer_org.path, OFFICER_ROLES)
            and not is_their_own(user, commitment))


def can_assess(user, commitment) -> bool:
    """Also: releasing the results and ordering rectification (督促检查 from any level above)."""
    return not is_own_pledge(user, commitment) and scope_for(user).reaches(commitment.reviewer_org.path,
                                                                             SECRETARY_ROLES)


def can_see_interim_satisfaction(user, commitment) -> bool:
    """六（二）督促检查: the interim 满意率 while 群众评议 is open is for the reviewing organisation's
    secretaries and those above (who may order rectification from it), never for the owner (the
    member, or officers whose reach stops at the owner organisation) nor the public."""
    return can_assess(user, commitment)


def can_respond_rectification(user, order) -> bool:
    """The drafters answer, never the secretary who issued the order (they verify the answer)."""
    return order.issued_by_id != getattr(user, "pk", None) and can_record_progress(user, order.commitment)


def can_verify_rectification(user, order) -> bool:
    """Close or extend: secretaries of the organisation that issued the order, or above."""
    return (not is_own_pledge(user, order.commitment)
            and scope_for(user).reaches(order.issuer_org.path, SECRETARY_ROLES))


def can_view_awards(user, org: Organisation) -> bool:
    return scope_for(user).reaches(org.path, READER_ROLES)
