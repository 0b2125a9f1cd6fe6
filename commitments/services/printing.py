"""Printing the forms (亮诺): the audit row of each download, and the background job of a large batch.

The PDFs themselves are made, and cached, in commitments/pdf.py; the views only read. Printing is
an audited event (the forms carry personal data, and who printed which copy is asked after), and
a batch too large for a request becomes a job that only a POST creates. One audit row each, in
one transaction (orgs.audit.record's own).
"""
from django.core.exceptions import PermissionDenied

from orgs import audit
from orgs.permissions import OFFICER_ROLES, scope_for

from ..jobs import job_pending_for, job_running_or_new
from ..models import Campaign, Commitment, Job, JobKind
from ..permissions import can_view_commitment
from ..tasks import enqueue_batch_pdf


def can_print_batch(user, org) -> bool:
    """Officers reaching the organisation print its batch."""
    return scope_for(user).reaches(org.path, OFFICER_ROLES)


def form_printed(*, actor, commitment: Commitment, form: dict, cached: bool) -> None:
    """Whoever may read the commitment: record the download of its form."""
    if not can_view_commitment(actor, commitment):
        raise PermissionDenied
    audit.record(actor=actor, action="commitment.print", obj=commitment, organisation=commitment.owner_org,
                 detail={"form": form["kind"], "version": form["version_number"], "copies": len(form["copies"]),
                         "cached": cached})


def batch_printed(*, actor, org, campaign: Campaign, own_only: bool, forms: list[dict]) -> None:
    """Officers reaching the organisation: record the download of its batch."""
    if not can_print_batch(actor, org):
        raise PermissionDenied
    audit.record(actor=actor, action="commitment.print", obj=org, organisation=org,
                 detail={"batch": True, "scope": "own" if own_only else "subtree", "campaign": campaign.year,
                         "forms": len(forms), "commitments": [f["commitment_id"] for f in forms]})


def blank_form_printed(*, actor, kind: str, cached: bool) -> None:
    """Anyone signed in: record the download of a blank form."""
    audit.record(actor=actor, action="commitment.print", detail={"form": kind, "blank": True, "cached": cached})


def _batch_params(org, campaign: Campaign, own_only: bool) -> dict:
    return {"org": org.pk, "campaign": campaign.pk, "own_only": own_only}


def batch_pdf_job_for(user, org, campaign: Campaign, own_only: bool) -> Job | None:
    """The user's job of this very batch still queued, running or downloadable, if any."""
    return job_pending_for(user, kind=JobKind.BATCH_PDF, params=_batch_params(org, campaign, own_only))


def batch_pdf_job_create(*, actor, org, campaign: Campaign, own_only: bool) -> Job:
    """Officers reaching the organisation: queue the batch PDF as a background job (the worker
    checks the permission again); a job of the same batch still queued or running is reused."""
    if not can_print_batch(actor, org):
        raise PermissionDenied
    return job_running_or_new(
        actor, kind=JobKind.BATCH_PDF, params=_batch_params(org, campaign, own_only),
        create=lambda: enqueue_batch_pdf(user=actor, org=org, campaign=campaign, own_only=own_only))
