"""The printable forms (亮诺): one commitment's form, an organisation's batch, blank forms.

Printing is an audited event: each download writes one audit row, the only write these GETs
make (the forms carry personal data, and who printed which copy is asked after). The PDFs
themselves are made, and cached, in commitments/pdf.py.
"""
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from orgs import audit
from orgs.permissions import OFFICER_ROLES, scope_for
from orgs.selectors import organisation_get_for

from .. import pdf, selectors
from commitments.tasks import enqueue_batch_pdf

JOB_MESSAGE = "已转入后台生成，完成后可在此下载。"


def _pdf_response(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False, filename)
    # Personal data (出生年月, 入党时间) is on the paper form: no shared caches.
    response["Cache-Control"] = "private, no-store"
    return response


def _owner_org(commitment):
    return commitment.member.branch if commitment.member_id else commitment.organisation


@require_GET
def form_pdf(request, pk):
    """One approved or published commitment filled into its annex form, in triplicate."""
    commitment = selectors.commitment_get_for(request.user, pk)
    form = pdf.form_for(commitment)
    if form is None:
        raise Http404
    data, cached = pdf.form_pdf(form)
    audit.record(actor=request.user, action="commitment.print", obj=commitment,
                 organisation=_owner_org(commitment),
                 detail={"form": form["kind"], "version": form["version_number"], "copies": len(form["copies"]),
                         "cached": cached})
    return _pdf_response(data, pdf.filename_for(form))


def _can_print_batch(user, org) -> bool:
    return scope_for(user).reaches(org.path, OFFICER_ROLES)


@require_GET
def batch_pdf(request, pk):
    """All printable forms of an organisation's subtree in the current campaign (officers);
    ?scope=own for the organisation itself and its own members only."""
    org = organisation_get_for(request.user, pk, predicate=_can_print_batch)
    own_only = request.GET.get("scope") == "own"
    campaign = selectors.current_campaign()
    forms = pdf.forms_for(pdf.batch_commitments(org, campaign, own_only=own_only)) if campaign else []
    if not forms:
        return render(request, "commitments/pdf/batch_empty.html",
                      {"org": org, "campaign": campaign, "own_only": own_only})
    if len(forms) > settings.BACKGROUND_PDF_THRESHOLD:
        # Too many to lay out within a request: a background job (commitments/tasks.py).
        job = enqueue_batch_pdf(user=request.user, org=org, campaign=campaign, own_only=own_only)
        messages.info(request, JOB_MESSAGE)
        return redirect("commitments:job_detail", job.pk)
    title = f"公开承诺书-{org.name}{'（本级）' if own_only else ''}-{campaign.year}"
    data = pdf.forms_pdf(forms, title=title)
    audit.record(actor=request.user, action="commitment.print", obj=org, organisation=org,
                 detail={"batch": True, "scope": "own" if own_only else "subtree", "campaign": campaign.year,
                         "forms": len(forms), "commitments": [f["commitment_id"] for f in forms]})
    return _pdf_response(data, f"{title}.pdf")


@require_GET
def blank_pdf(request, kind):
    """An empty 附件1 or 附件2 in triplicate, to fill in by hand (e.g. for an oral pledge)."""
    if kind not in pdf.KINDS:
        raise Http404
    form = pdf.blank_form(kind)
    data, cached = pdf.form_pdf(form)
    audit.record(actor=request.user, action="commitment.print", detail={"form": kind, "blank": True, "cached": cached})
    return _pdf_response(data, pdf.filename_for(form))
