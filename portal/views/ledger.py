"""承诺台账 download: every commitment of a subtree in one campaign, as .xlsx."""
from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from commitments import selectors
from core.xlsx import xlsx_response
from orgs.models import Organisation
from orgs.permissions import READER_ROLES, can_view_org, scope_for
from orgs.selectors import organisation_get_for

from ..ledger import ledger_export
from ..services import ledger_job_create, ledger_job_for
from ..tasks import ledger_count

JOB_MESSAGE = "已转入后台生成，完成后可在此下载。"


def _ledger_target(request):
    """The campaign (?campaign=<year>) and organisation (?org=<pk>, default: the user's top one)."""
    campaign = selectors.campaign_from_request(request)
    if campaign is None:
        raise Http404
    org_pk = request.GET.get("org", "")
    if org_pk:
        return organisation_get_for(request.user, org_pk, predicate=can_view_org), campaign
    roots = scope_for(request.user).roots(READER_ROLES)
    if not roots:
        raise Http404
    return Organisation.objects.get(path=roots[0]), campaign


@require_GET
def ledger_xlsx(request):
    """The workbook at once; a subtree too big for a request shows its job still being made, or a
    page whose button POSTs to ledger_job (a GET never queues anything)."""
    org, campaign = _ledger_target(request)
    count = ledger_count(org, campaign)
    if count > settings.LEDGER_BACKGROUND_THRESHOLD:
        job = ledger_job_for(request.user, org, campaign)
        if job is not None and not job.finished:
            return redirect("commitments:job_detail", job.pk)
        query = f"?org={org.pk}&campaign={campaign.year}"
        return render(request, "commitments/jobs/job_confirm.html", {
            "title": "导出承诺台账", "org": org, "job": job, "threshold": settings.LEDGER_BACKGROUND_THRESHOLD,
            "summary": f"{campaign.name}中，{org.name}及其下级党组织共有{count}份承诺，台账",
            "action": reverse("portal:ledger_job") + query, "hidden": [],
            "back_url": reverse("portal:coverage") + query, "back_label": "返回覆盖情况"})
    handle = ledger_export(actor=request.user, org=org, campaign=campaign)
    return xlsx_response(handle, f"{org.name}{campaign.year}年承诺台账.xlsx")


@require_POST
def ledger_job(request):
    """Queue a ledger too large for a request as a background job (portal/tasks.py); a smaller one
    is sent back to ledger_xlsx, which answers it at once. ?org= and ?campaign= as for ledger_xlsx."""
    org, campaign = _ledger_target(request)
    if ledger_count(org, campaign) <= settings.LEDGER_BACKGROUND_THRESHOLD:
        return redirect(f"{reverse('portal:ledger_xlsx')}?org={org.pk}&campaign={campaign.year}")
    job = ledger_job_create(actor=request.user, org=org, campaign=campaign)
    messages.info(request, JOB_MESSAGE)
    return redirect("commitments:job_detail", job.pk)
