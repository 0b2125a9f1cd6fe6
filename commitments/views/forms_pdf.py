"""The printable forms (亮诺): one commitment's form, an organisation's batch, blank forms.

Printing is an audited event: each download is recorded by a service (commitments/services/
printing.py), the only write these GETs make (the forms carry personal data, and who printed which
copy is asked after). A batch too large for a request becomes a background job, which only the
POST of batch_pdf_job creates. The PDFs themselves are made, and cached, in commitments/pdf.py.
"""
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from orgs.selectors import organisation_get_for

from .. import pdf, selectors
from ..services.printing import (batch_pdf_job_create, batch_pdf_job_for, batch_printed, blank_form_printed,
                                 can_print_batch, form_printed)

JOB_MESSAGE = "已转入后台生成，完成后可在此下载。"


def _pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False, filename)
    # Personal data (出生年月, 入党时间) is on the paper form: no shared caches.
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def form_pdf(request, pk):
    """One approved or published commitment filled into its annex form, in triplicate."""
    commitment = selectors.commitment_get_for(request.user, pk)
    form = pdf.form_for(commitment)
    if form is None:
        raise Http404
    data, cached = pdf.form_pdf(form)
    form_printed(actor=request.user, commitment=commitment, form=form, cached=cached)
    return _pdf_response(data, pdf.filename_for(form))


def _batch_forms(org, own_only: bool):
    campaign = selectors.current_campaign()
    forms = pdf.forms_for(pdf.batch_commitments(org, campaign, own_only=own_only)) if campaign else []
    return campaign, forms


def _batch_url(org, own_only: bool) -> str:
    return reverse("commitments:batch_pdf", args=[org.pk]) + ("?scope=own" if own_only else "")


@require_GET
def batch_pdf(request, pk):
    """All printable forms of an organisation's subtree in the current campaign (officers);
    ?scope=own for the organisation itself and its own members only. Above the threshold: the
    job of this batch still being made, else a page whose button POSTs to batch_pdf_job."""
    org = organisation_get_for(request.user, pk, predicate=can_print_batch)
    own_only = request.GET.get("scope") == "own"
    campaign, forms = _batch_forms(org, own_only)
    if not forms:
        return render(request, "commitments/pdf/batch_empty.html",
                      {"org": org, "campaign": campaign, "own_only": own_only})
    if len(forms) > settings.BACKGROUND_PDF_THRESHOLD:
        job = batch_pdf_job_for(request.user, org, campaign, own_only)
        if job is not None and not job.finished:
            return redirect("commitments:job_detail", job.pk)
        scope = f"{org.name}本级及其党员" if own_only else f"{org.name}及其下级党组织"
        return render(request, "commitments/jobs/job_confirm.html", {
            "title": "批量打印公开承诺书", "org": org, "job": job, "threshold": settings.BACKGROUND_PDF_THRESHOLD,
            "summary": f"{campaign.name}中，{scope}共有{len(forms)}份可打印的公开承诺书，",
            "action": reverse("commitments:batch_pdf_job", args=[org.pk]),
            "hidden": [("scope", "own")] if own_only else [],
            "back_url": reverse("orgs:detail", args=[org.pk]), "back_label": f"返回{org.name}"})
    title = f"公开承诺书-{org.name}{'（本级）' if own_only else ''}-{campaign.year}"
    data = pdf.forms_pdf(forms, title=title)
    batch_printed(actor=request.user, org=org, campaign=campaign, own_only=own_only, forms=forms)
    return _pdf_response(data, f"{title}.pdf")


@require_POST
def batch_pdf_job(request, pk):
    """Queue a batch too large for a request as a background job (commitments/tasks.py); a batch
    small enough (or empty) is sent back to batch_pdf, which answers it at once."""
    org = organisation_get_for(request.user, pk, predicate=can_print_batch)
    own_only = request.POST.get("scope") == "own"
    campaign, forms = _batch_forms(org, own_only)
    if len(forms) <= settings.BACKGROUND_PDF_THRESHOLD:
        return redirect(_batch_url(org, own_only))
    job = batch_pdf_job_create(actor=request.user, org=org, campaign=campaign, own_only=own_only)
    messages.info(request, JOB_MESSAGE)
    return redirect("commitments:job_detail", job.pk)


@require_GET
def blank_pdf(request, kind):
    """An empty 附件1 or 附件2 in triplicate, to fill in by hand (e.g. for an oral pledge)."""
    if kind not in pdf.KINDS:
        raise Http404
    form = pdf.blank_form(kind)
    data, cached = pdf.form_pdf(form)
    blank_form_printed(actor=request.user, kind=kind, cached=cached)
    return _pdf_response(data, pdf.filename_for(form))
