"""Reads for campaigns and commitments, scoped to what the user may see (404 otherwise)."""
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from orgs.models import Member, MemberStatus, Organisation
from orgs.permissions import OFFICER_ROLES, READER_ROLES, SECRETARY_ROLES, scope_for
from orgs.selectors import _under_any

from .models import Campaign, Commitment, CommitmentStatus, CommitmentVersion, Exemption, Item, ReferenceItem
from .permissions import can_view_commitment


def current_campaign() -> Campaign | None:
    """The campaign marked current, else the latest year's."""
    return Campaign.objects.order_by("-is_current", "-year").first()


def campaign_list() -> QuerySet[Campaign]:
    """All campaign years, newest first (last year's records stay readable)."""
    return Campaign.objects.order_by("-year")


def campaign_from_request(request) -> Campaign | None:
    """The campaign named by ?campaign=<year>, else the current one."""
    year = request.GET.get("campaign")
    if year and year.isdigit():
        campaign = Campaign.objects.filter(year=int(year)).first()
        if campaign is not None:
            return campaign
    return current_campaign()


COMMITMENT_RELATED = ("campaign", "organisation", "organisation__parent", "member", "member__branch",
                      "member__user", "reviewer_org", "recorder", "last_submitted_by")


def commitment_get_for(user, pk, *, predicate=can_view_commitment) -> Commitment:
    """One commitment the user may see (or act on, per `predicate`); otherwise 404."""
    try:
        commitment = Commitment.objects.select_related(*COMMITMENT_RELATED).get(pk=pk)
    except (Commitment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not predicate(user, commitment):
        raise Http404
    return commitment


def live_items(commitment: Commitment) -> list[Item]:
    """The current (not removed) items of a commitment, in order, with their sources."""
    return list(commitment.items.filter(removed_at__isnull=True)
                .select_related("source_suggestion", "source_reference").order_by("position", "id"))


def versions_of(commitment: Commitment) -> list[CommitmentVersion]:
    """Every submitted version, oldest first, with its review decisions."""
    from reviews.models import ReviewDecision

    return list(commitment.versions.select_related("submitted_by").prefetch_related(
        Prefetch("decisions", queryset=ReviewDecision.objects.select_related("reviewer", "reviewer_org")))
        .order_by("number"))


def commitment_list_for(user, *, campaign: Campaign, status: str = "", kind: str = "",
                        org: Organisation | None = None, q: str = "") -> QuerySet[Commitment]:
    """Commitments whose owner lies in the user's reading scope (or `org`'s subtree), filtered."""
    paths = [org.path] if org is not None else scope_for(user).roots(READER_ROLES)
    owner_in = _under_any(paths, "organisation__path") | _under_any(paths, "member__branch__path")
    qs = Commitment.objects.filter(owner_in, campaign=campaign).select_related(
        "organisation", "member", "member__branch", "reviewer_org")
    if status:
        qs = qs.filter(status=status)
    if kind == "org":
        qs = qs.filter(organisation__isnull=False)
    elif kind == "member":
        qs = qs.filter(member__isnull=False)
    if q:
        qs = qs.filter(Q(organisation__name__icontains=q) | Q(member__name__icontains=q))
    return qs.order_by("-updated_at", "-id")


def my_pledges(user, campaign: Campaign | None) -> list[Commitment]:
    """The user's own pledge(s) in the campaign (one per member record linked to the login)."""
    if campaign is None:
        return []
    return list(Commitment.objects.filter(campaign=campaign, member__user=user)
                .select_related("member", "member__branch"))


def branch_pledges_for(user, branch: Organisation, campaign: Campaign) -> list[dict]:
    """Each member on a branch's roll with their pledge and exemption: three queries in all."""
    members = list(Member.objects.filter(branch=branch, status=MemberStatus.ACTIVE).order_by("name", "id"))
    ids = [m.pk for m in members]
    pledges = {c.member_id: c for c in Commitment.objects.filter(campaign=campaign, member_id__in=ids)}
    excuses = {e.member_id: e for e in Exemption.objects.filter(campaign=campaign, member_id__in=ids)}
    return [{"member": m, "pledge": pledges.get(m.pk), "exemption": excuses.get(m.pk)} for m in members]


def org_commitment_of(org: Organisation, campaign: Campaign) -> Commitment | None:
    return Commitment.objects.filter(campaign=campaign, organisation=org).first()


def references_for(commitment: Commitment) -> list[ReferenceItem]:
    """Reference items published by the owner's ancestors for this kind of commitment."""
    owner = commitment.member.branch if commitment.member_id else commitment.organisation
    ancestor_ids = owner.ancestor_ids + ([owner.pk] if commitment.member_id else [])
    audience = ReferenceItem.Audience.MEMBER if commitment.member_id else ReferenceItem.Audience.ORGANISATION
    return list(ReferenceItem.objects.filter(organisation_id__in=ancestor_ids, audience=audience, is_active=True)
                .select_related("organisation").order_by("category", "id"))


def todo_counts_for(user, campaign: Campaign | None) -> dict[str, int]:
    """Counts for the home page's to-do area: reviews waiting, returned drafts to revise."""
    if campaign is None:
        return {}
    scope = scope_for(user)
    counts = {}
    review_roots = scope.roots(SECRETARY_ROLES)
    if review_roots:
        counts["to_review"] = Commitment.objects.filter(
            _under_any(review_roots, "reviewer_org__path"), campaign=campaign,
            status=CommitmentStatus.SUBMITTED).exclude(member__user=user).exclude(last_submitted_by=user).count()
    officer_roots = scope.roots(OFFICER_ROLES)
    returned = Q(member__user=user, is_oral=False)
    if officer_roots:
        returned |= _under_any(officer_roots, "organisation__path") | _under_any(officer_roots, "member__branch__path")
    counts["returned"] = Commitment.objects.filter(returned, campaign=campaign,
                                                   status=CommitmentStatus.RETURNED).count()
    return counts


def org_choices_for_commitments(user) -> QuerySet[Organisation]:
    """Organisations whose commitment the user may draft: officers' subtree, minus roots."""
    return (Organisation.objects.filter(_under_any(scope_for(user).roots(OFFICER_ROLES)), is_active=True,
                                        parent__isnull=False).order_by("path"))


