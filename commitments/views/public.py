"""The public noticeboard (党务政务公开栏 on the web): no login, published text only.

Personal data stays off these pages: a member appears by name and branch only, never with a
phone number, birth month or party-join date. Opened from a QR code on a phone, so the pages
are light and work without JavaScript.
"""
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from evaluations.views.public import RatingForm, attach_public_results, public_evaluation
from orgs.views import paginate

from .. import selectors
from ..models import Publication


def _campaign(request):
    campaign = selectors.campaign_from_request(request)
    if campaign is None:
        raise Http404
    return campaign


@login_not_required
@require_GET
def noticeboard(request):
    """Index of organisations with published commitments, and a search by organisation or name."""
    campaign = _campaign(request)
    q = request.GET.get("q", "").strip()[:50]
    return render(request, "commitments/public/noticeboard.html", {
        "campaign": campaign, "q": q,
        "page": paginate(request, selectors.noticeboard_orgs(campaign=campaign, q=q)),
        "people": selectors.noticeboard_people(campaign=campaign, q=q),
        "campaigns": selectors.campaign_list(),
    })


@login_not_required
@require_GET
def org_page(request, pk):
    """An organisation's published commitment, its members' published pledges, its sub-organisations."""
    campaign = _campaign(request)
    org = selectors.public_org(pk)
    page = selectors.public_org_page(org, campaign)
    # Released 评诺 results as badges (`public_result`): a fixed number of queries.
    attach_public_results([page["own"], *page["pledges"]], campaign)
    return render(request, "commitments/public/org.html", {"campaign": campaign, "org": org, **page})


@login_not_required
@require_GET
def commitment_page(request, pk):
    """One published commitment (the QR code on the 公示 copy points here), with its history."""
    c = selectors.public_commitment(pk)
    publications = list(Publication.objects.filter(commitment=c).select_related("version")
                        .order_by("-published_on", "-id"))
    shown = c.public_version
    wanted = request.GET.get("version", "")
    if wanted.isdigit():
        shown = next((p.version for p in publications if p.version.number == int(wanted)), None)
        if shown is None:
            raise Http404
    current = next((p for p in publications if p.version_id == c.public_version_id), None)
    return render(request, "commitments/public/commitment.html", {
        "c": c, "shown": shown, "publications": publications, "current": current,
        "is_latest": shown.pk == c.public_version_id,
        "owner_org": c.member.branch if c.member_id else c.organisation,
        "progress_entries": selectors.progress_page_for(c, public_only=True)["entries"],
        # 评诺: the 群众评议 window and form, or the released results.
        "ev": public_evaluation(request, c), "rating_form": RatingForm(),
    })
