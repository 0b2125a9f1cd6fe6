"""Reads for campaigns and commitments, scoped to what the user may see (404 otherwise)."""
import datetime as _dt
from dataclasses import dataclass, field

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Case, Count, Exists, IntegerField, Min, OuterRef, Prefetch, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone as _tz

from commitments.models import ReviewDecision
from orgs.models import Member, MemberStatus, Organisation
from orgs.permissions import OFFICER_ROLES, READER_ROLES, SECRETARY_ROLES, can_view_org, scope_for
from orgs.selectors import ancestors_of, get_visible_or_404, under_any

from .lifecycle import in_force_q
from .models import (EDITABLE_STATUSES, LIVE_EXEMPTION_STATUSES, LIVE_STATUSES, Attachment, Campaign, Commitment,
                     CommitmentStatus, CommitmentVersion, Exemption, ExemptionStatus, Item, ItemProgress, ProgressEntry,
                     ProgressVisibility, Publication, ReferenceItem, Suggestion)
from .permissions import can_download_attachment, can_handle_opinions, can_publish_references, can_view_commitment


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


COMMITMENT_RELATED = ("campaign", "organisation", "organisation__parent", "member", "member__branch", "public_version",
                      "member__user", "reviewer_org", "recorder", "last_submitted_by")


def commitment_get_for(user, pk, *, predicate=can_view_commitment) -> Commitment:
    """One commitment the user may see (or act on, per `predicate`); otherwise 404."""
    return get_visible_or_404(Commitment.objects.select_related(*COMMITMENT_RELATED), pk,
                              lambda c: predicate(user, c))


def live_items(commitment: Commitment) -> list[Item]:
    """The current (not removed) items of a commitment, in order, with their sources."""
    return list(commitment.items.filter(removed_at__isnull=True)
                .select_related("source_suggestion", "source_reference").order_by("position", "id"))


def versions_of(commitment: Commitment) -> list[CommitmentVersion]:
    """Every submitted version, oldest first, with its review decisions."""
    return list(commitment.versions.select_related("submitted_by", "consent_by").prefetch_related(
        Prefetch("decisions", queryset=ReviewDecision.objects.select_related("reviewer", "reviewer_org", "version")))
        .order_by("number"))


def publications_of(commitment: Commitment) -> list:
    """Every act of publication of a commitment, newest first, with the version it published."""
    return list(commitment.publications.select_related("version", "published_by", "supplements")
                .order_by("-published_on", "-id"))


def commitment_list_for(user, *, campaign: Campaign, status: str = "", kind: str = "",
                        org: Organisation | None = None, own: bool = False, q: str = "") -> QuerySet[Commitment]:
    """Commitments whose owner lies in the user's reading scope (or `org`'s subtree; with `own`,
    `org` itself: its own commitment and, for a branch, its members' pledges), filtered."""
    if org is not None and own:
        where = Q(owner_path=org.path)
    else:
        where = under_any([org.path] if org is not None else scope_for(user).roots(READER_ROLES), "owner_path")
    qs = Commitment.objects.filter(where, campaign=campaign).select_related(
        "organisation", "member", "member__branch", "reviewer_org")
    if status:
        qs = qs.filter(status=status)
    else:
        qs = qs.exclude(status=CommitmentStatus.WITHDRAWN)  # discarded drafts only when asked for
    if kind == "org":
        qs = qs.filter(organisation__isnull=False)
    elif kind == "member":
        qs = qs.filter(member__isnull=False)
    if q:
        qs = qs.filter(Q(organisation__name__icontains=q) | Q(member__name__icontains=q))
    return qs.order_by("-updated_at", "-id")


def my_pledges(user, campaign: Campaign | None, *, members: list[Member] | None = None) -> list[Commitment]:
    """The user's own pledge(s) in the campaign (one per member record linked to the login;
    `members`: those records, when the page has read them already)."""
    if campaign is None or members == []:
        return []
    return list(Commitment.objects.filter(campaign=campaign, member__user=user, status__in=LIVE_STATUSES)
                .select_related("member", "member__branch"))


def branch_pledges_for(user, branch: Organisation, campaign: Campaign) -> list[dict]:
    """Each member on a branch's roll with their pledge and exemption: three queries in all."""
    members = list(Member.objects.filter(branch=branch, status=MemberStatus.ACTIVE).order_by("name", "id"))
    for member in members:
        member.branch = branch  # the branch already read: the page's predicates need its path
    ids = [m.pk for m in members]
    pledges = {c.member_id: c for c in Commitment.objects.filter(campaign=campaign, member_id__in=ids,
                                                                 status__in=LIVE_STATUSES)}
    excuses = {e.member_id: e for e in Exemption.objects.filter(campaign=campaign, member_id__in=ids,
                                                                status__in=LIVE_EXEMPTION_STATUSES)
               .select_related("member__branch", "campaign")}
    return [{"member": m, "pledge": pledges.get(m.pk), "exemption": excuses.get(m.pk)} for m in members]


def exemption_list_for(user, *, campaign: Campaign, status: str = "") -> QuerySet[Exemption]:
    """Exemptions and deferrals of members and organisations in the user's reading scope, newest
    first, with what the list shows selected (one query)."""
    roots = scope_for(user).roots(READER_ROLES)
    if not roots:
        return Exemption.objects.none()
    scope = Q()
    for path in roots:
        scope |= Q(member__branch__path__startswith=path) | Q(organisation__path__startswith=path)
    qs = Exemption.objects.filter(scope, campaign=campaign)
    if status:
        qs = qs.filter(status=status)
    return (qs.select_related("member__branch", "organisation__parent", "campaign", "proposed_by", "decided_by",
                              "revoked_by")
            .order_by("-created_at", "-id"))


def exemption_get_for(user, pk: int, predicate) -> Exemption:
    """One exemption if the user passes `predicate` on it; 404 for missing and forbidden alike."""
    exemption = (Exemption.objects.select_related("member__branch", "organisation", "campaign")
                 .filter(pk=pk).first())
    if exemption is None or not predicate(user, exemption):
        raise Http404
    return exemption


def exemptions_to_decide_for(user, campaign: Campaign) -> QuerySet[Exemption]:
    """Proposed exemptions the user may approve (permissions.can_decide_exemption as one query): of
    members of branches strictly below a secretary's organisation, or, when the campaign sets the
    approving level, below it from an organisation at or above that level; never their own, nor
    ones they proposed."""
    roots = scope_for(user).roots(SECRETARY_ROLES)
    if not roots:
        return Exemption.objects.none()
    depth = campaign.exemption_approver_depth
    reach = Q(pk__in=[])
    for path in roots:
        below = Q(member__branch__path__startswith=path) & ~Q(member__branch__path=path)
        if depth is not None:
            # The configured ancestor approves when the branch lies deeper; else the parent does.
            at_level = Q(member__branch__depth__gt=depth) if path.count("/") - 1 <= depth else Q(pk__in=[])
            below &= at_level | Q(member__branch__depth__lte=depth)
        reach |= below
    return (Exemption.objects.filter(reach, campaign=campaign, status=ExemptionStatus.PROPOSED, member__isnull=False)
            .exclude(proposed_by=user).exclude(member__user=user))


def exemptions_to_approve_here(user, campaign: Campaign) -> QuerySet[Exemption]:
    """The proposals of exemptions_to_decide_for whose approving organisation (see
    permissions.exemption_approver_path) is one where the user is a secretary themself: the home
    page's to-do (the levels above may decide them too, but it is not their duty)."""
    own = scope_for(user).paths(SECRETARY_ROLES)
    depth = campaign.exemption_approver_depth
    here = Q(member__branch__parent__path__in=own)
    if depth is not None:
        here = Q(member__branch__depth__lte=depth) & here
        for path in own:
            if path.count("/") - 1 == depth:
                here |= Q(member__branch__depth__gt=depth, member__branch__path__startswith=path)
    return exemptions_to_decide_for(user, campaign).filter(here)


def org_commitment_of(org: Organisation, campaign: Campaign) -> Commitment | None:
    return Commitment.objects.filter(campaign=campaign, organisation=org, status__in=LIVE_STATUSES).first()


def references_for(commitment: Commitment) -> list[ReferenceItem]:
    """Reference items published by the owner's ancestors for this kind of commitment."""
    owner = commitment.owner_org
    ancestor_ids = owner.ancestor_ids + ([owner.pk] if commitment.member_id else [])
    audience = ReferenceItem.Audience.MEMBER if commitment.member_id else ReferenceItem.Audience.ORGANISATION
    return list(ReferenceItem.objects.filter(organisation_id__in=ancestor_ids, audience=audience, is_active=True)
                .select_related("organisation").order_by("category", "id"))


def org_choices_for_commitments(user) -> QuerySet[Organisation]:
    """Organisations whose commitment the user may draft: officers' subtree, minus roots."""
    return (Organisation.objects.filter(under_any(scope_for(user).roots(OFFICER_ROLES)), is_active=True,
                                        parent__isnull=False).order_by("path"))


# --- opinions and reference items ---


def visible_ancestors(user, org: Organisation) -> list[Organisation]:
    """Breadcrumbs above `org`: only the ancestors the user may open (officers of a branch see none)."""
    return [a for a in ancestors_of(org) if can_view_org(user, a)]


def adoption_targets_q(organisation: Organisation) -> Q:
    """Commitments a suggestion made to `organisation` may become an item of: the organisation's
    own commitment and the pledges of members in its subtree."""
    return Q(organisation=organisation) | Q(member__isnull=False, owner_path__startswith=organisation.path)


def suggestion_list_for(user, org: Organisation, *, channel: str = "", outcome: str = "") -> QuerySet[Suggestion]:
    """An organisation's suggestions and recorded opinions, for the officers who handle them.

    Pending ones come first, oldest first (they have waited longest); handled ones follow,
    newest first. 404 unless the user may handle the organisation's opinions.
    """
    if not can_handle_opinions(user, org):
        raise Http404
    qs = Suggestion.objects.filter(organisation=org).select_related("handled_by", "recorded_by", "campaign")
    if channel:
        qs = qs.filter(channel=channel)
    if outcome:
        qs = qs.filter(outcome=outcome)
    pending = Q(outcome=Suggestion.Outcome.PENDING)
    return qs.order_by(
        Case(When(pending, then=Value(0)), default=Value(1), output_field=IntegerField()),
        # Only pending rows have this key, so handled rows fall through to the newest-first key.
        Case(When(pending, then="created_at")),
        "-created_at", "-id")


def suggestion_outcome_counts(org: Organisation) -> dict[str, int]:
    """How many of an organisation's suggestions are pending, adopted and declined (one query)."""
    counts = {o: 0 for o in Suggestion.Outcome.values}
    rows = Suggestion.objects.filter(organisation=org).values_list("outcome").annotate(n=Count("id")).order_by()
    counts.update(dict(rows))
    return counts


def suggestion_get_for(user, pk) -> Suggestion:
    """One suggestion with its outcome and the items adopted from it; 404 for missing and forbidden."""
    queryset = (Suggestion.objects.select_related("organisation", "campaign", "handled_by", "recorded_by")
                .prefetch_related(Prefetch("items", queryset=Item.objects.select_related(
                    "commitment", "commitment__organisation", "commitment__member").order_by("id"))))
    return get_visible_or_404(queryset, pk, lambda s: can_handle_opinions(user, s.organisation))


def adoptable_commitments_for(user, suggestion: Suggestion, campaign: Campaign | None) -> QuerySet[Commitment]:
    """Commitments of the campaign that may still take an adopted item: the organisation's own
    first, then members' pledges in its subtree, all in draft or returned for revision."""
    if campaign is None or not can_handle_opinions(user, suggestion.organisation):
        return Commitment.objects.none()
    org = suggestion.organisation
    return (Commitment.objects.filter(adoption_targets_q(org), campaign=campaign, status__in=EDITABLE_STATUSES)
            .select_related("organisation", "member", "member__branch", "campaign")
            .order_by(Case(When(organisation=org, then=Value(0)), default=Value(1), output_field=IntegerField()),
                      "member__branch__path", "member__name", "id"))


def _guidance_order():
    """Categories in the order 三、承诺内容 lists them (their codes do not sort that way)."""
    return Case(*[When(category=c, then=Value(i)) for i, c in enumerate(ReferenceItem.Category.values)],
                default=Value(len(ReferenceItem.Category.values)), output_field=IntegerField())


def reference_list_for(user, org: Organisation, *, audience: str = "") -> QuerySet[ReferenceItem]:
    """The reference items an organisation has published (withdrawn ones too), for its publishers; else 404."""
    if not can_publish_references(user, org):
        raise Http404
    qs = ReferenceItem.objects.filter(organisation=org).select_related("created_by")
    if audience:
        qs = qs.filter(audience=audience)
    return qs.order_by("audience", "-is_active", _guidance_order(), "id")


def references_inherited_by(org: Organisation) -> list[ReferenceItem]:
    """Reference items the organisation's ancestors publish and its subtree sees too (read only)."""
    ids = org.ancestor_ids
    if not ids:
        return []
    return list(ReferenceItem.objects.filter(organisation_id__in=ids, is_active=True)
                .select_related("organisation").order_by("organisation__path", _guidance_order(), "id"))


def reference_get_for(user, pk) -> ReferenceItem:
    """One reference item whose publishing organisation the user may manage; 404 otherwise."""
    return get_visible_or_404(ReferenceItem.objects.select_related("organisation", "organisation__parent"), pk,
                              lambda r: can_publish_references(user, r.organisation))


# --- public noticeboard (no login; only what has been published, never personal data) ---------


# 四（三）: the noticeboard is the 网络 channel. A commitment is on it only while the current
# publication of its public version names 网络 (Commitment.online_since); one published at a 会议
# or on paper only is recorded as such and stays off every public page until 网络 is added.
ONLINE = Q(public_version__isnull=False, online_since__isnull=False)


def _published(campaign: Campaign) -> QuerySet[Commitment]:
    return Commitment.objects.filter(ONLINE, campaign=campaign)


def noticeboard_summary(campaign: Campaign) -> dict:
    """What the noticeboard lists for a campaign: the ids of the active organisations with something
    published, in tree order, and for each whether its own commitment is published and how many
    member pledges are. Two queries whatever the size: the campaign's published commitments grouped
    by their owner's path (Commitment.owner_path: no join, no per-organisation EXISTS) and the
    active organisations' ids and paths in tree order. Kept in the public page cache for the
    current generation (commitments/public_cache.py), so paging and searching reuse it."""
    by_path = {path: (n_own, n_pledges) for path, n_own, n_pledges in _published(campaign).order_by()
               .values("owner_path").annotate(own=Count("id", filter=Q(organisation__isnull=False)),
                                              pledges=Count("id", filter=Q(member__isnull=False)))
               .values_list("owner_path", "own", "pledges")}
    order, own, pledges = [], set(), {}
    for pk, path in Organisation.objects.filter(is_active=True).order_by("path").values_list("id", "path"):
        counts = by_path.get(path)
        if counts is None:
            continue
        order.append(pk)
        if counts[0]:
            own.add(pk)
        if counts[1]:
            pledges[pk] = counts[1]
    return {"order": order, "own": own, "pledges": pledges}


def noticeboard_page(*, campaign: Campaign, q: str = "", page_number=None, summary: dict | None = None):
    """One page of the noticeboard's organisations (in tree order, with `org_published` and
    `pledges_published`), matching `q` by name or short name. The paginator counts the summary's
    list; only the page's organisations are read (with their parents)."""
    summary = summary if summary is not None else noticeboard_summary(campaign)
    order = summary["order"]
    if q:
        matching = set(Organisation.objects.filter(is_active=True).filter(Q(name__icontains=q) | Q(short_name__icontains=q))
                       .values_list("id", flat=True))
        order = [pk for pk in order if pk in matching]
    page = Paginator(order, settings.PAGE_SIZE).get_page(page_number)
    orgs = Organisation.objects.select_related("parent").in_bulk(list(page.object_list))
    rows = []
    for pk in page.object_list:
        org = orgs.get(pk)
        if org is None:
            continue
        org.org_published = pk in summary["own"]
        org.pledges_published = summary["pledges"].get(pk, 0)
        rows.append(org)
    page.object_list = rows
    return page


def noticeboard_people(*, campaign: Campaign, q: str) -> list[Commitment]:
    """Published member pledges whose member's name matches: name and branch only."""
    if not q:
        return []
    return list(_published(campaign).filter(member__name__icontains=q)
                .select_related("member", "member__branch").order_by("member__branch__path", "member__name")[:50])


def public_org(pk) -> Organisation:
    """An active organisation for its public page or suggestion box; 404 for unknown and revoked ones."""
    try:
        return Organisation.objects.select_related("parent").get(pk=pk, is_active=True)
    except (Organisation.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def public_org_page(org: Organisation, campaign: Campaign) -> dict:
    """What an organisation's public page shows: its published commitment, its members' published
    pledges (names only), its sub-organisations with counts, and the path above it."""
    published = _published(campaign)
    own = published.filter(organisation=org).select_related("public_version").first()
    pledges = list(published.filter(member__branch=org).select_related("member")
                   .order_by("member__name", "member__id"))
    children = list(Organisation.objects.filter(parent=org, is_active=True).annotate(
        org_published=Exists(published.filter(organisation=OuterRef("pk"))),
        pledges_published=Count("members__commitments", filter=Q(
            members__commitments__campaign=campaign, members__commitments__public_version__isnull=False,
            members__commitments__online_since__isnull=False)))
        .order_by("sort_order", "name"))
    ancestors = list(Organisation.objects.filter(pk__in=org.ancestor_ids, is_active=True).order_by("path"))
    return {"own": own, "pledges": pledges, "children": children, "ancestors": ancestors}


def public_publications_of(commitment: Commitment) -> list:
    """The noticeboard's revision history: one entry per version that went online (网络), newest
    first, dated the day it did (one query). A version published at a 会议 only never shows."""
    first_online = {}
    for p in (Publication.objects.filter(commitment=commitment).select_related("version")
              .order_by("published_on", "id")):
        if p.is_online and p.version_id not in first_online:
            first_online[p.version_id] = p
    return sorted(first_online.values(), key=lambda p: (p.published_on, p.pk), reverse=True)


def public_commitment(pk) -> Commitment:
    """A commitment on the noticeboard (the QR code's target); 404 for anything never published,
    or published without the 网络 channel."""
    try:
        return (Commitment.objects.select_related("campaign", "organisation", "member", "member__branch",
                                                  "public_version")
                .get(ONLINE, pk=pk))
    except (Commitment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# --- progress records ---
# 践诺 (四（四）): item statuses are derived, never typed in; entries and attachments for the
# internal page and, filtered to what was made public (公示), for the noticeboard.


def item_progress_status(*, deadline: _dt.date, entries: int, completed: bool, today: _dt.date) -> str:
    """已完成 once an entry completes it; 逾期 past the deadline otherwise; 进行中 with any entry."""
    if completed:
        return ItemProgress.DONE
    if today > deadline:
        return ItemProgress.OVERDUE
    return ItemProgress.IN_PROGRESS if entries else ItemProgress.NOT_STARTED


@dataclass
class ItemProgressRow:
    """One item of the public version with its derived status."""

    id: int
    number: int
    content: str
    measures: str
    deadline: _dt.date
    responsible: str
    entries: int = 0
    completed_on: _dt.date | None = None
    status: str = ItemProgress.NOT_STARTED
    timeline: list = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return ItemProgress(self.status).label


# 四（四）: who sees a progress record. Officers (the commitment's readers) see all; the members of
# the owning organisation see 本组织党员 and 公开 records; the public sees 公开 ones only.
SEEN_BY_MEMBERS = (ProgressVisibility.MEMBERS, ProgressVisibility.PUBLIC)


def progress_items_for(commitment: Commitment, *, today: _dt.date | None = None,
                       public_only: bool = False) -> list[ItemProgressRow]:
    """The public version's items with their statuses (one query; needs public_version selected).

    The text and deadline are the published ones; a revision in progress does not move them.
    With public_only, only public (公开) entries count, so the noticeboard never states more than
    it shows.
    """
    if commitment.public_version_id is None:
        return []
    today = today or _tz.localdate()
    rows = [ItemProgressRow(id=i["id"], number=n, content=i["content"], measures=i["measures"],
                            deadline=_dt.date.fromisoformat(i["deadline"]), responsible=i.get("responsible", ""))
            for n, i in enumerate(commitment.public_version.snapshot.get("items", []), start=1)]
    entries = ProgressEntry.objects.filter(commitment=commitment, item_id__in=[r.id for r in rows])
    if public_only:
        entries = entries.filter(visibility=ProgressVisibility.PUBLIC)
    counts = {row["item_id"]: row for row in entries.values("item_id").annotate(
        n=Count("id"), completed_on=Min("happened_on", filter=Q(completes_item=True))).order_by()}
    for row in rows:
        found = counts.get(row.id)
        if found:
            row.entries, row.completed_on = found["n"], found["completed_on"]
        row.status = item_progress_status(deadline=row.deadline, entries=row.entries,
                                          completed=row.completed_on is not None, today=today)
    return rows


def progress_entries_for(commitment: Commitment, rows: list[ItemProgressRow], *,
                         public_only: bool = False) -> list[ProgressEntry]:
    """Entries of the commitment, newest first, with attachments and recorder (two queries);
    each gets `.row` (its item's ItemProgressRow) and each row its `timeline`."""
    qs = (ProgressEntry.objects.filter(commitment=commitment, item_id__in=[r.id for r in rows])
          .select_related("recorded_by")
          .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
          .order_by("-happened_on", "-id"))
    if public_only:
        qs = qs.filter(visibility=ProgressVisibility.PUBLIC)
    by_id = {r.id: r for r in rows}
    entries = list(qs)
    for entry in entries:
        entry.row = by_id[entry.item_id]
        entry.row.timeline.append(entry)
    return entries


def progress_page_for(commitment: Commitment, *, today: _dt.date | None = None, public_only: bool = False) -> dict:
    """Everything a progress page shows: items with statuses, entries, counts by status."""
    rows = progress_items_for(commitment, today=today, public_only=public_only)
    entries = progress_entries_for(commitment, rows, public_only=public_only)
    counts = {s: 0 for s in ItemProgress.values}
    for row in rows:
        counts[row.status] += 1
    return {"rows": rows, "entries": entries,
            "status_counts": [(ItemProgress(s).label, s, n) for s, n in counts.items()]}


def attachment_get_for(user, pk) -> Attachment:
    """An attachment of a commitment the user may see; 404 for missing and forbidden alike."""

    attachment = _attachment(pk)
    if not can_download_attachment(user, attachment, public=False):
        raise Http404
    return attachment


def public_attachment_get(pk) -> Attachment:
    """An attachment of a public entry on a commitment with a public version; 404 otherwise."""

    attachment = _attachment(pk)
    if not can_download_attachment(None, attachment, public=True):
        raise Http404
    return attachment


def _attachment(pk) -> Attachment:
    try:
        return Attachment.objects.select_related(
            "entry", "entry__commitment", "entry__commitment__organisation", "entry__commitment__member",
            "entry__commitment__member__branch", "entry__commitment__reviewer_org").get(pk=pk)
    except (Attachment.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def branch_progress_for(user, *, campaign: Campaign | None, page_number=None) -> dict:
    """四（四）: the progress records a member sees as a member of their branch — those at 本组织党员
    or 公开 on the published commitments of the branch, of the organisations above it and of the
    branch's members — newest first, one page; 404 for a login without an active member record.
    A fixed number of queries: the member, the commitments, the page of entries (with count) and
    their attachments."""
    member = (Member.objects.filter(user=user, status=MemberStatus.ACTIVE).select_related("branch").first()
              if getattr(user, "is_authenticated", False) else None)
    if member is None:
        raise Http404
    branch = member.branch
    commitments = {}
    if campaign is not None:
        commitments = {c.pk: c for c in Commitment.objects.filter(
            Q(member__branch=branch) | Q(organisation_id__in=[branch.pk, *branch.ancestor_ids]),
            in_force_q(), campaign=campaign)
            .select_related("organisation", "member", "public_version")}
    entries = (ProgressEntry.objects.filter(commitment_id__in=list(commitments), visibility__in=SEEN_BY_MEMBERS)
               .select_related("recorded_by")
               .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
               .order_by("-happened_on", "-id"))
    page = Paginator(entries, settings.PAGE_SIZE).get_page(page_number)
    numbers = {pk: {i["id"]: (n, i["content"]) for n, i in enumerate(c.public_version.snapshot.get("items", []), 1)}
               for pk, c in commitments.items()}
    for entry in page.object_list:
        entry.commitment = commitments[entry.commitment_id]
        number, content = numbers[entry.commitment_id].get(entry.item_id, (None, ""))
        entry.row = ItemProgressRow(id=entry.item_id, number=number, content=content, measures="",
                                    deadline=_dt.date.min, responsible="")
    return {"member": member, "branch": branch, "page": page, "commitments": len(commitments)}


def owner_labels_for(user, ids) -> dict[int, str]:
    """“Owner's kind” labels of commitments the user may see, for reporting bulk results."""
    rows = Commitment.objects.filter(pk__in=list(ids)).select_related(
        "organisation", "member", "member__branch", "reviewer_org")
    return {c.pk: f"{c.owner_name}的{c.kind_label}" for c in rows if can_view_commitment(user, c)}
