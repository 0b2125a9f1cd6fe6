"""覆盖情况报表 download: the coverage dashboard's per-child figures and the blank-spot members
of a subtree in one campaign, as .xlsx."""
from django.http import Http404
from django.views.decorators.http import require_GET

from commitments import selectors
from core.xlsx import xlsx_response
from portal.coverage_export import coverage_export
from portal.views.coverage import _org_from_request


@require_GET
def coverage_xlsx(request):
    """?org=<pk> (default: the user's top reading root; 404 outside the scope) and ?campaign=<year>."""
    org = _org_from_request(request)
    campaign = selectors.campaign_from_request(request)
    if campaign is None:
        raise Http404
    handle = coverage_export(actor=request.user, org=org, campaign=campaign)
    return xlsx_response(handle, f"{org.name}{campaign.year}年覆盖情况.xlsx")
