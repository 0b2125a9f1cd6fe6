"""Writes of the portal layer: queueing a ledger too large for a request as a background job."""
from django.core.exceptions import PermissionDenied

from commitments.jobs import job_pending_for, job_running_or_new
from commitments.models import Campaign, Job, JobKind
from orgs.models import Organisation
from orgs.permissions import can_view_org

from .tasks import enqueue_ledger


def ledger_job_for(user, org: Organisation, campaign: Campaign) -> Job | None:
    """The user's job of this very ledger still queued, running or downloadable, if any."""
    return job_pending_for(user, kind=JobKind.LEDGER_XLSX, params={"org": org.pk, "campaign": campaign.pk})


def ledger_job_create(*, actor, org: Organisation, campaign: Campaign) -> Job:
    """Readers of the organisation: queue its ledger as a background job (the worker checks the
    permission again); a job of the same ledger still queued or running is reused."""
    if not can_view_org(actor, org):
        raise PermissionDenied
    return job_running_or_new(actor, kind=JobKind.LEDGER_XLSX, params={"org": org.pk, "campaign": campaign.pk},
                              create=lambda: enqueue_ledger(user=actor, org=org, campaign=campaign))
