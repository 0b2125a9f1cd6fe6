"""The public noticeboard (党务政务公开栏 on the web): no login, published text only.

Personal data stays off these pages: a member appears by name and branch only, never with a
phone number, birth month or party-join date. Opened from a QR code on a phone, so the pages
are light and work without JavaScript.
"""
from types import SimpleNamespace

from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from commitments import public_cache, selectors, selectors_stamped
from commitments.models import ScanDisplay
from commitments.views.crumbs import public_commitment_label, public_commitment_trail
from evaluations.selectors import has_rated
from evaluations.views.public import (PublicEvaluation, RatingForm, attach_public_results, give_rater_token,
                                      public_evaluation, rater_token_of)

# The query parameters each page reads; a request with any other (or a non-numeric value) is
# answered but not stored, so a crafted address can neither add entries nor put its parameters
# into the links of a page others get (the pagination keeps the query string).
CACHED_PARAMS = {"noticeboard": ("campaign", "page"), "org": ("campaign",), "commitment": ("version",)}


class _NoVisitor:
    """Stands for the request in `public_evaluation` while the shared page is rendered: no rater
    cookie, so no visitor's ballot is looked up (the slot does that per request)."""

    @staticmethod
    def get_signed_cookie(key, default=None, **kwargs):
        return default


_NO_VISITOR = _NoVisitor()


def _campaign(request):
    campaign = selectors.campaign_from_request(request)
    if campaign is None:
        raise Http404
    return campaign


def _lookup(request, page: str, *args):
    """The cache entry of this request (commitments/public_cache.py), or None if it is not to be stored."""
    if not public_cache.cacheable(request):
        return None
    allowed = CACHED_PARAMS[page]
    values = []
    if any(name not in allowed for name in request.GET):
        return None
    for name in allowed:
        value = request.GET.get(name, "")
        if value and not (value.isdigit() and len(value) <= 6):
            return None
        values.append(value)
    return public_cache.lookup(public_cache.page_key(page, *args, *values))


def _store(entry, html: str, **extra) -> None:
    if entry is not None:
        entry.store(html, **extra)


def _canonical(request, entry, campaign, page=None):
    """`entry` when the address names the campaign and page as shown (?campaign=2026, ?page=3), else
    None: a year that does not exist or a page past the end is answered but not stored, so the
    entries stay bounded by the real pages."""
    year, number = request.GET.get("campaign", ""), request.GET.get("page", "")
    if year and year != str(campaign.year):
        return None
    if page is not None and number and number != str(page.number):
        return None
    return entry


@login_not_required
@require_GET
def noticeboard(request):
    """Index of organisations with published commitments, and a search by organisation or name."""
    q = request.GET.get("q", "").strip()[:50]
    entry = None if q else _lookup(request, "noticeboard")
    if entry is not None and entry.hit:
        return public_cache.respond(request, entry, entry.value["html"])
    campaign = _campaign(request)
    summary = public_cache.get_value(f"noticeboard:{campaign.pk}", lambda: selectors.noticeboard_summary(campaign))
    page = selectors.noticeboard_page(campaign=campaign, q=q, page_number=request.GET.get("page"), summary=summary)
    html = render_to_string("portal/public/noticeboard.html", {
        "campaign": campaign, "q": q, "page": page,
        "people": selectors.noticeboard_people(campaign=campaign, q=q),
        "campaigns": selectors.campaign_list(),
    }, request)
    entry = _canonical(request, entry, campaign, page)
    _store(entry, html)
    return public_cache.respond(request, entry, html)


@login_not_required
@require_GET
def org_page(request, pk):
    """An organisation's published commitment, its members' published pledges, its sub-organisations."""
    entry = _lookup(request, "org", pk)
    if entry is not None and entry.hit:
        return public_cache.respond(request, entry, entry.value["html"])
    campaign = _campaign(request)
    org = selectors.public_org(pk)
    page = selectors.public_org_page(org, campaign)
    # Released 评诺 results as badges (`public_result`): a fixed number of queries.
    attach_public_results([page["own"], *page["pledges"]], campaign)
    trail = [(a.name, reverse("portal:public_org", args=[a.pk])) for a in page["ancestors"]]
    html = render_to_string("portal/public/org.html", {"campaign": campaign, "org": org, **page, "trail": trail},
                            request)
    entry = _canonical(request, entry, campaign)
    _store(entry, html)
    return public_cache.respond(request, entry, html)


@login_not_required
@require_GET
def commitment_page(request, pk):
    """One published commitment (the QR code on the 公示 copy points here), with its history.

    While the 群众评议 window is open the rating section (a form with the visitor's CSRF token, or
    "you have rated") is per visitor: the stored page has a slot for it, filled on each request."""
    entry = _lookup(request, "commitment", pk)
    if entry is not None and entry.hit:
        html, rating = entry.value["html"], entry.value.get("rating")
    else:
        html, rating = _commitment_html(request, pk)
        _store(entry, html, rating=rating)
    if rating is None:
        return public_cache.respond(request, entry, html)
    html = html.replace(public_cache.SLOT, _rating_section(request, rating), 1)
    response = public_cache.respond(request, entry, html, shared=False)
    give_rater_token(request, response)
    return response


def _commitment_html(request, pk) -> tuple[str, dict | None]:
    """The page's HTML (with the slot while rating is open) and what the slot needs, or None."""
    c = selectors.public_commitment(pk)
    publications = selectors.public_publications_of(c)
    shown = c.public_version
    wanted = request.GET.get("version", "")
    if wanted.isdigit():
        shown = next((p.version for p in publications if p.version.number == int(wanted)), None)
        if shown is None:
            raise Http404
    # 评诺: the 群众评议 window and form, or the released results. The visitor's own ballot is
    # looked up with the slot, not here.
    ev = public_evaluation(_NO_VISITOR, c)
    rating = None
    if not ev.is_released and ev.state == "open":
        rating = {"pk": c.pk, "state": ev.state, "opens": ev.opens, "deadline": ev.deadline, "notice": ev.notice}
    # The stamped 公示 copy, where the officers chose to show it: only ever of the public version.
    stamped = selectors_stamped.public_stamped_scans(c) if shown.pk == c.public_version_id else []
    owner_org = c.owner_org
    html = render_to_string("portal/public/commitment.html", {
        "c": c, "shown": shown, "publications": publications,
        "is_latest": shown.pk == c.public_version_id,
        "stamped": stamped, "stamped_instead": any(s.public_display == ScanDisplay.INSTEAD for s in stamped),
        "owner_org": owner_org,
        "trail": public_commitment_trail(c, owner_org)[:1], "current": public_commitment_label(c),
        "progress_entries": selectors.progress_page_for(c, public_only=True)["entries"],
        "ev": ev, "rating_slot": mark_safe(public_cache.SLOT) if rating else "",  # noqa: S308 - a constant
    }, request)
    return html, rating


def _rating_section(request, rating: dict) -> str:
    """The rating section for this visitor: the form with their own CSRF token, or "already rated"."""
    ev = PublicEvaluation(state=rating["state"], opens=rating["opens"], deadline=rating["deadline"],
                          notice=rating["notice"])
    ev.already_rated = has_rated(commitment_id=rating["pk"], token=rater_token_of(request))
    return render_to_string("evaluations/public/rating.html", {
        "c": SimpleNamespace(pk=rating["pk"]), "ev": ev, "form": RatingForm(), "csrf_token": get_token(request)})
