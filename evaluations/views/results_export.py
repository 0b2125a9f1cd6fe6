"""评诺结果 download: the evaluation list's rows (all pages, the same filters) as .xlsx."""
from django.http import Http404
from django.urls import path
from django.views.decorators.http import require_GET

from commitments.selectors import campaign_from_request, campaign_list
from core.xlsx import xlsx_response
from orgs.permissions import READER_ROLES, scope_for
from orgs.selectors import organisation_list_for

from .. import selectors
from ..forms import EvaluationFilterForm
from ..results_export import results_export


@require_GET
def results_xlsx(request):
    """?org=&campaign=&kind=&state=&q= as on the evaluation list; readers only, else 404."""
    user = request.user
    if not scope_for(user).has_any(READER_ROLES):
        raise Http404
    campaign = campaign_from_request(request)
    if campaign is None:
        raise Http404
    data = request.GET.copy()
    data["campaign"] = str(campaign.year)
    form = EvaluationFilterForm(data, organisations=organisation_list_for(user).order_by("path"),
                                states=[(k, label) for k, (label, _) in selectors.STATES.items()],
                                campaigns=campaign_list())
    valid = form.is_valid()
    if not valid and form.has_error("org", "invalid_choice"):
        raise Http404  # an organisation outside the user's reach (a name matching none is a field error)
    params = form.cleaned_data if valid else {k: form.cleaned_data.get(k) for k in form.fields
                                              if k not in form.errors}
    org = params.get("org")
    handle = results_export(actor=user, campaign=campaign, org=org, kind=params.get("kind") or "",
                            state=params.get("state") or "", q=(params.get("q") or "").strip())
    where = org.name if org is not None else ""
    return xlsx_response(handle, f"{where}{campaign.year}年评诺结果.xlsx")


urlpatterns = [
    path("evaluations/results.xlsx", results_xlsx, name="results_xlsx"),
]
