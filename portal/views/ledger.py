"""承诺台账 download: every commitment of a subtree in one campaign, as .xlsx."""
from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from commitments import selectors
from core.xlsx import xlsx_response
from orgs.models import Organisation
from orgs.permissions import READER_ROLES, can_view_org, scope_for
from orgs.selectors import organisation_get_for

from ..ledger import ledger_export
from ..tasks import enqueue_ledger, ledger_count


@require_GET
def ledger_xlsx(request):
    """?org=<pk> (default: the user's top organisation) and ?campaign=<year>."""
    campaign = selectors.campaign_from_request(request)
    if campaign is None:
        raise Http404
    org_pk = request.GET.get("org", "")
    if org_pk:
        org = organisation_get_for(request.user, org_pk, predicate=can_view_org)
    else:
        roots = scope_for(request.user).roots(READER_ROLES)
        if not roots:
            raise Http404
        org = Organisation.objects.get(path=roots[0])
    if ledger_count(org, campaign) > settings.LEDGER_BACKGROUND_THRESHOLD:
        # A big subtree: the workbook is made in the background (portal/tasks.py).
        job = enqueue_ledger(user=request.user, org=org, campaign=campaign)
        messages.info(request, "已转入后台生成，完成后可在此下载。")
        return redirect("commitments:job_detail", job.pk)
    handle = ledger_export(actor=request.user, org=org, campaign=campaign)
    return xlsx_response(handle, f"{org.name}{campaign.year}年承诺台账.xlsx")
