"""The background tasks (django.tasks) behind commitments/jobs.py, run by `manage.py db_worker`.

Each task takes only the job's id; the job row holds the user who asked and the parameters, and
jobs.run() checks again, with that user, that they may have the result before any work is done.

The batch PDF puts every form into the per-form cache of commitments/pdf.py first (only the
forms not rendered yet are laid out, pdf.RENDER_CHUNK at a time), with the progress written as
it goes, then writes the cached forms' PDFs one after the other into the result file
(pdf.write_forms_pdf): memory is bounded by one chunk of forms, whatever the batch. The
ledger's task (which needs every app) is portal/tasks.py, on the same job framework.
"""
from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.tasks import task

from . import jobs, pdf
from .models import Campaign, Commitment, Job, JobKind

PDF_PROGRESS_EVERY = 20  # forms between two progress updates of a batch PDF


# --- forms rendered ahead of printing --------------------------------------------------------------

@task
def prerender_forms_task(commitment_ids: list[int]) -> int:
    """Lay out the forms of just approved or published commitments into the per-form cache, so
    that the staff's printing (one form, or a batch of a branch's) finds them rendered: a batch
    is then a merge of cached files (seconds) instead of ~0.2 s of layout per form."""
    commitments = list(Commitment.objects.filter(pk__in=commitment_ids)
                       .select_related("organisation", "member", "member__branch", "public_version"))
    return pdf.render_missing(pdf.forms_for(commitments))


def prerender_forms(commitment_ids) -> None:
    """Queue prerender_forms_task once the current transaction commits (settings.PDF_PRERENDER)."""
    ids = sorted(set(commitment_ids))
    if settings.PDF_PRERENDER and ids:
        transaction.on_commit(lambda: prerender_forms_task.enqueue(ids))


# --- batch PDF -----------------------------------------------------------------------------------

def batch_title(org, campaign, own_only: bool) -> str:
    return f"公开承诺书-{org.name}{'（本级）' if own_only else ''}-{campaign.year}"


def _batch_pdf(job: Job, progress: jobs.Progress) -> jobs.Result:
    org = jobs.job_org(job)
    campaign = Campaign.objects.filter(pk=job.params.get("campaign")).first()
    if campaign is None:
        raise jobs.JobFailed("活动年度已不存在，无法生成。")
    own_only = bool(job.params.get("own_only"))
    progress(0, None, "正在读取承诺")
    forms = pdf.forms_for(pdf.batch_commitments(org, campaign, own_only=own_only))
    if not forms:
        raise jobs.JobFailed("没有已审定或已公开的承诺，暂无可打印的公开承诺书。")
    total = len(forms)
    progress(0, total, f"正在排版（共{total}份）")
    title = batch_title(org, campaign, own_only)

    last = 0

    def on_progress(done):
        nonlocal last
        if done < total and done - last < PDF_PROGRESS_EVERY:
            return
        last = done
        progress(done, total, f"已排版{done}/{total}份" if done < total else "正在合成PDF文件")

    pdf.render_missing(forms, on_progress=on_progress)
    detail = {"batch": True, "scope": "own" if own_only else "subtree", "campaign": campaign.year,
              "forms": total, "commitments": [f["commitment_id"] for f in forms]}
    # Written straight into the result file, form by form, from the cache just filled.
    return jobs.Result(f"{title}.pdf", lambda f: pdf.write_forms_pdf(forms, f, title=title), detail)


@task
def batch_pdf_task(job_id: int) -> str:
    return jobs.run(job_id, _batch_pdf)


# --- enqueueing (the views call these above their thresholds) ------------------------------------

def enqueue_batch_pdf(*, user, org, campaign, own_only: bool) -> Job:
    return jobs.job_create(user=user, kind=JobKind.BATCH_PDF, title=batch_title(org, campaign, own_only),
                           params={"org": org.pk, "campaign": campaign.pk, "own_only": own_only},
                           organisation=org, task=batch_pdf_task)

