"""评选表彰依据: the released 评诺 results under an organisation, ranked, for its readers, and the
same list as an Excel workbook (evaluations/awards_export.py)."""
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from commitments import selectors as commitment_selectors
from orgs.selectors import organisation_get_for

from ..awards_export import KIND_LABELS, awards_export, awards_title
from ..models import Evaluation
from ..permissions import can_view_awards
from ..selectors import awards_for, evaluation_list_for

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _params(request, pk):
    """The organisation (404 outside the user's reading scope), the kind and the campaign."""
    org = organisation_get_for(request.user, pk, predicate=can_view_awards)
    kind = request.GET.get("kind", "")
    return org, kind if kind in KIND_LABELS else "org", commitment_selectors.campaign_from_request(request)


def _unreleased(user, org, campaign, kind) -> int:
    """Published commitments of `kind` under `org` whose results are not released yet (so not ranked)."""
    released = Evaluation.objects.filter(commitment=OuterRef("pk"), released_at__isnull=False)
    return evaluation_list_for(user, campaign=campaign, org=org, kind=kind).exclude(Exists(released)).count()


@require_GET
def awards(request, pk):
    """The ranked results (名次, 综合得分, 满意率, 等次) of organisations or of members under `pk`."""
    org, kind, campaign = _params(request, pk)
    rows, unreleased = [], 0
    if campaign is not None:
        rows = awards_for(org, campaign, kind=kind)
        unreleased = _unreleased(request.user, org, campaign, kind)
    return render(request, "evaluations/awards.html", {
        "org": org, "kind": kind, "kinds": list(KIND_LABELS.items()), "campaign": campaign,
        "campaigns": commitment_selectors.campaign_list(), "rows": rows, "unreleased": unreleased,
        "title": awards_title(org, campaign, kind) if campaign is not None else "评选表彰依据",
        "ancestors": [*commitment_selectors.visible_ancestors(request.user, org), org],
    })


@require_GET
def awards_xlsx(request, pk):
    """The same list as an .xlsx file; each export is audited."""
    org, kind, campaign = _params(request, pk)
    if campaign is None:
        raise Http404
    data, filename = awards_export(actor=request.user, org=org, campaign=campaign, kind=kind,
                                   unreleased=_unreleased(request.user, org, campaign, kind))
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    # Names and results of members: no shared caches.
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns = [
    path("evaluations/orgs/<int:pk>/awards/", awards, name="awards"),
    path("evaluations/orgs/<int:pk>/awards.xlsx", awards_xlsx, name="awards_xlsx"),
]
