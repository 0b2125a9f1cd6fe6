"""Who may draft, submit, review and see commitments; built on the organisation scope.

Like orgs.permissions, these answer "who" only; whether the commitment's state allows the
action ("when") is the lifecycle's question.
"""
from orgs.models import PATH_STEP, Member, MemberStatus, Role
from orgs.permissions import OFFICER_ROLES, READER_ROLES, SECRETARY_ROLES, scope_for

from .models import ProgressVisibility

# What a bulk action (批量审定, 批量公布评议结果) answers for an id that does not exist and for one
# the user may not act on, alike: ids cannot be probed (as pages answer 404 for both).
NOT_FOUND_OR_FORBIDDEN = "该承诺不存在或您无权处理。"


def is_own_pledge(user, commitment) -> bool:
    member = commitment.member
    return member is not None and member.user_id is not None and member.user_id == getattr(user, "pk", None)


def can_manage_campaigns(user) -> bool:
    """System administrators of a whole tree (granted on a root) set up campaign years."""
    return any(g.role == Role.ADMIN and g.path.count("/") == 1 for g in scope_for(user).grants)


def can_start_org_commitment(user, org) -> bool:
    """Officers draft the commitment of an organisation in reach that has a parent to review it."""
    return org.parent_id is not None and org.is_active and scope_for(user).reaches(org.path, OFFICER_ROLES)


def can_start_pledge(user, member) -> bool:
    """A member drafts their own pledge; branch officers draft for members (oral or without login)."""
    if member.user_id is not None and member.user_id == getattr(user, "pk", None):
        return True
    return scope_for(user).reaches(member.branch.path, OFFICER_ROLES)


def can_edit_commitment(user, commitment) -> bool:
    """The drafters: officers over the owner, or the member for their own written pledge."""
    if commitment.member_id is not None:
        if is_own_pledge(user, commitment) and not commitment.is_oral:
            return True
        return scope_for(user).reaches(commitment.member.branch.path, OFFICER_ROLES)
    return scope_for(user).reaches(commitment.organisation.path, OFFICER_ROLES)


def can_publish(user, commitment) -> bool:
    """Officers over the owner publish (亮诺) and print the forms for the noticeboard."""
    owner_path = (commitment.member.branch.path if commitment.member_id is not None
                  else commitment.organisation.path)
    return scope_for(user).reaches(owner_path, OFFICER_ROLES)


def can_manage_stamped_scans(user, commitment) -> bool:
    """Whoever publishes and prints the forms (officers over the owner: a branch's for its members'
    pledges and its own commitment, and every organisation above) uploads the signed and stamped
    paper back, withdraws a scan and chooses what the noticeboard shows."""
    return can_publish(user, commitment)


def can_view_stamped_scans(user, commitment) -> bool:
    """The managers above, and the member for their own pledge's scans."""
    return is_own_pledge(user, commitment) or can_manage_stamped_scans(user, commitment)


def is_own_commitment(user, commitment) -> bool:
    """No one judges their own commitment (四（二）): their own pledge, one they submitted (or sent
    to the member to confirm), or their organisation's commitment when they are its secretary."""
    if is_own_pledge(user, commitment):
        return True
    if commitment.last_submitted_by_id is not None and commitment.last_submitted_by_id == getattr(user, "pk", None):
        return True
    if commitment.organisation_id is not None:
        return any(g.organisation_id == commitment.organisation_id and g.role in SECRETARY_ROLES
                   for g in scope_for(user).grants)
    return False


def can_review(user, commitment) -> bool:
    """Secretaries of the reviewing organisation (or above), never on their own commitment."""
    if is_own_commitment(user, commitment):
        return False
    return scope_for(user).reaches(commitment.reviewer_org.path, SECRETARY_ROLES)


def can_confirm_pledge(user, commitment) -> bool:
    """The member themself confirms (or sends back) a written pledge staff drafted for them (四（一）)."""
    return is_own_pledge(user, commitment) and not commitment.is_oral


def can_view_commitment(user, commitment) -> bool:
    """The owner member, readers over the owner, and the reviewers."""
    if is_own_pledge(user, commitment):
        return True
    scope = scope_for(user)
    owner_path = (commitment.member.branch.path if commitment.member_id is not None
                  else commitment.organisation.path)
    return scope.reaches(owner_path, READER_ROLES) or scope.reaches(commitment.reviewer_org.path, SECRETARY_ROLES)


def _is_self(user, member) -> bool:
    return member.user_id is not None and member.user_id == getattr(user, "pk", None)


def can_propose_exemption(user, member) -> bool:
    """The branch proposes an exemption (六（三）): its officers (or above), never for themselves."""
    return not _is_self(user, member) and scope_for(user).reaches(member.branch.path, OFFICER_ROLES)


def can_defer(user, member) -> bool:
    """Deferrals and their make-up (补课) are recorded by the branch's officers, never for themselves."""
    return not _is_self(user, member) and scope_for(user).reaches(member.branch.path, OFFICER_ROLES)


def exemption_approver_path(branch, campaign) -> str:
    """The path of the 机关党组织 that approves (审核认同) a branch's exemptions: the ancestor at the
    campaign's configured depth, else the branch's parent (a root branch approves its own)."""
    step = PATH_STEP + 1
    depth = campaign.exemption_approver_depth
    if depth is not None and depth < branch.depth:
        return branch.path[:(depth + 1) * step]
    return branch.path[:-step] or branch.path


def can_decide_exemption(user, exemption) -> bool:
    """Secretaries of the approving organisation (or above) decide a member's proposed exemption;
    never the member, nor whoever proposed it (needs member__branch and campaign)."""
    if _is_self(user, exemption.member) or exemption.proposed_by_id == getattr(user, "pk", None):
        return False
    return scope_for(user).reaches(exemption_approver_path(exemption.member.branch, exemption.campaign),
                                   SECRETARY_ROLES)


def can_revoke_exemption(user, exemption) -> bool:
    """A proposal or deferral is withdrawn by the branch's officers; an approved exemption of a
    member by the approvers; an organisation's exemption by the level above it."""
    if exemption.organisation_id is not None:
        return can_exempt_org(user, exemption.organisation)
    if exemption.kind == "exempt" and exemption.status == "approved":
        return not _is_self(user, exemption.member) and scope_for(user).reaches(
            exemption_approver_path(exemption.member.branch, exemption.campaign), SECRETARY_ROLES)
    return can_defer(user, exemption.member)


def can_exempt_org(user, org) -> bool:
    """The level above exempts an organisation (a 临时党支部 dissolved mid-year, say): secretaries of
    its parent (or above); the organisation's own secretaries cannot."""
    return org.parent_id is not None and scope_for(user).reaches(org.path[:-(PATH_STEP + 1)], SECRETARY_ROLES)


def can_handle_opinions(user, org) -> bool:
    """Officers read an organisation's suggestions, record symposiums and visits, adopt or decline."""
    return scope_for(user).reaches(org.path, OFFICER_ROLES)


def can_publish_references(user, org) -> bool:
    """Officers of a parent organisation publish reference items for their subtree."""
    return not org.is_branch and scope_for(user).reaches(org.path, OFFICER_ROLES)


def can_record_progress(user, commitment) -> bool:
    """The drafters record progress (践诺记实): officers over the owner (also for members without an
    account or with an oral pledge), and the member on their own written pledge."""
    return can_edit_commitment(user, commitment)


def is_member_of_owner(user, commitment) -> bool:
    """An active member of the owning organisation: of the branch, for a pledge or a branch's own
    commitment; of a branch under it, for a 党委's or 党总支's commitment (one query)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return Member.objects.filter(user=user, status=MemberStatus.ACTIVE,
                                 branch__path__startswith=commitment.owner_path).exists()


def can_see_progress_entry(user, entry) -> bool:
    """四（四）在一定范围内公示: the commitment's readers (officers) see every record; the members of
    the owning organisation those at 本组织党员 or 公开 (needs entry.commitment selected)."""
    commitment = entry.commitment
    if can_view_commitment(user, commitment):
        return True
    return entry.visibility in (ProgressVisibility.MEMBERS, ProgressVisibility.PUBLIC) and is_member_of_owner(user, commitment)


def can_download_attachment(user, attachment, *, public: bool) -> bool:
    """Those who may see the entry see its attachments; the public only those of 公开 entries on
    commitments on the noticeboard (a public version published with 网络)."""
    commitment = attachment.entry.commitment
    if public:
        return (attachment.entry.is_public and commitment.public_version_id is not None
                and commitment.online_since is not None)
    return can_see_progress_entry(user, attachment.entry)


def org_page_buttons(user, org) -> dict:
    """The commitment buttons an organisation's page shows this user (registered with orgs.hooks)."""
    return {"can_start_commitment": can_start_org_commitment(user, org),
            "can_handle_opinions": can_handle_opinions(user, org),
            "can_publish_references": can_publish_references(user, org)}
