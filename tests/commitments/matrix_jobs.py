"""Permission-matrix entries for the background jobs (commitments/views/jobs.py).

A job belongs to the user who asked for it: its page, status and download are theirs alone, every
other persona (administrators included) gets a 404. "我的导出任务" lists the own jobs of anyone
signed in. prepare() makes a finished batch-PDF job of secretary_a (with its result file) and a
failed one of staff_a, which has nothing to download, not even for staff_a.
"""
from commitments import jobs
from commitments.models import Job, JobKind, JobStatus
from tests.matrix_common import LOGGED_IN, NO_ARGS, Spec, allow, attr


def prepare(world):
    from django.utils import timezone

    world.job_done = Job.objects.create(
        user=world.secretary_a, kind=JobKind.BATCH_PDF, title="公开承诺书-第一党支部-2010",
        params={"org": world.branch_a.pk, "campaign": world.campaign.pk, "own_only": False},
        status=JobStatus.DONE, progress_done=1, progress_total=1, result_name="公开承诺书-第一党支部-2010.pdf",
        finished_at=timezone.now())
    relative = jobs._write_result(world.job_done, jobs.Result("x.pdf", lambda f: f.write(b"%PDF-1.7\n")))
    Job.objects.filter(pk=world.job_done.pk).update(result_path=relative)
    world.job_failed = Job.objects.create(
        user=world.staff_a, kind=JobKind.LEDGER_XLSX, title="第一党支部2010年承诺台账",
        params={"org": world.branch_a.pk, "campaign": world.campaign.pk}, status=JobStatus.FAILED,
        error=jobs.GENERIC_ERROR, finished_at=timezone.now())


JOB_TARGETS = {"secretary_a_done": attr("job_done"), "staff_a_failed": attr("job_failed")}
OWN_JOB = {"secretary_a": {"secretary_a_done"}, "staff_a": {"staff_a_failed"}}

MATRIX = {
    "commitments:job_list": Spec(NO_ARGS, allow(LOGGED_IN), methods=("GET",)),
    "commitments:job_detail": Spec(JOB_TARGETS, OWN_JOB, methods=("GET",)),
    "commitments:job_status": Spec(JOB_TARGETS, OWN_JOB, methods=("GET",)),
    # A failed job has no result to download, for its owner neither.
    "commitments:job_download": Spec(JOB_TARGETS, {"secretary_a": {"secretary_a_done"}}, methods=("GET",)),
}
