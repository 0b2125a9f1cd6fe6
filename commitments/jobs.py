"""Background jobs: long exports made by `manage.py db_worker` while the user watches a progress bar.

A request over a size threshold (a batch PDF of many forms, a city-wide ledger) calls
job_create(): one Job row for the user who asked, one audit row, and one django.tasks task in
the database (django-tasks-db), all in one transaction. The worker runs the task
(commitments/tasks.py), which calls run() with the function that makes the file: run() marks the
job running, re-checks the user's permission through that function, writes the file under
MEDIA_ROOT/jobs/ with a generated name, and records progress, the result or a Chinese error.

Only the user who asked sees a job (job_get_for: anyone else gets a 404) and downloads its result
(job_download, audited like the direct download it replaces, after the permission is checked
again). Results are removed JOB_RESULT_HOURS after they were made by sweep(), which runs when a
job is created and after every job the worker finishes.
"""
from __future__ import annotations

import datetime
import logging
import os
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from orgs import audit
from orgs.models import Organisation
from orgs.permissions import OFFICER_ROLES, can_view_org, scope_for

from .models import Job, JobKind, JobStatus

logger = logging.getLogger(__name__)

RESULT_DIR = "jobs"
GENERIC_ERROR = "生成失败，请稍后重新提交；如仍失败，请联系系统管理员。"
NO_PERMISSION = "您已无权导出该党组织的内容，任务未完成。"
INACTIVE = "申请人账号已停用，任务未执行。"
RECENT = 20  # jobs listed on "我的导出任务"


class JobFailed(Exception):
    """An expected failure: its message (Chinese) is shown to the user as it is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Result:
    """What a job's work function hands back: the download's file name, a function writing the
    file to an open binary file, and what the download's audit row records."""

    name: str
    write: Callable
    detail: dict = field(default_factory=dict)


# kind → (audit action of the download, content type, may the user still have it?)
def _may_print_batch(user, org) -> bool:
    return scope_for(user).reaches(org.path, OFFICER_ROLES)


def _may_read_org(user, org) -> bool:
    return can_view_org(user, org)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
KINDS = {
    JobKind.BATCH_PDF: ("commitment.print", "application/pdf", _may_print_batch),
    JobKind.LEDGER_XLSX: ("ledger.export", XLSX, _may_read_org),
    JobKind.COVERAGE_XLSX: ("coverage.export", XLSX, _may_read_org),
}


def may_have(user, job: Job, org: Organisation | None) -> bool:
    """Whether `user` may (still) have what `job` makes: active, and allowed over its organisation."""
    if not user.is_active or org is None:
        return False
    return KINDS[job.kind][2](user, org)


def job_org(job: Job) -> Organisation | None:
    return Organisation.objects.filter(pk=job.params.get("org")).first()


# --- selectors -----------------------------------------------------------------------------------

def jobs_for(user) -> list[Job]:
    """The user's recent jobs, newest first."""
    return list(Job.objects.filter(user=user)[:RECENT])


def job_pending_for(user, *, kind: str, params: dict) -> Job | None:
    """The user's latest job of this kind with these very parameters that is still queued,
    running or downloadable (a failed or swept one is not)."""
    jobs = Job.objects.filter(user_id=user.pk, kind=kind, **{f"params__{k}": v for k, v in params.items()})
    job = jobs.exclude(status=JobStatus.FAILED).order_by("-created_at", "-id").first()
    return job if job is not None and (not job.finished or job.downloadable) else None


def job_running_or_new(user, *, kind: str, params: dict, create) -> Job:
    """The user's job of this very request still queued or running (asking twice makes one job),
    else the new one create() queues."""
    pending = job_pending_for(user, kind=kind, params=params)
    return pending if pending is not None and not pending.finished else create()


def job_get_for(user, pk) -> Job:
    """The user's own job; anybody else's (or none) is a 404."""
    job = Job.objects.filter(user_id=user.pk, pk=pk).first()
    if job is None:
        raise Http404
    return job


def status_payload(job: Job) -> dict:
    """What /jobs/<id>/status.json answers and static/js/jobs.js shows."""
    return {
        "id": job.pk, "status": job.status, "status_label": job.get_status_display(), "stage": job.stage,
        "done": job.progress_done, "total": job.progress_total, "percent": job.percent,
        "finished": job.finished, "downloadable": job.downloadable, "error": job.error,
        "result_name": job.result_name,
    }


# --- services ------------------------------------------------------------------------------------

def job_create(*, user, kind: str, title: str, params: dict, organisation: Organisation, task) -> Job:
    """Record the job, audit it and enqueue `task(job_id)`, in one transaction. The caller has
    checked the permission (the worker checks it again)."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    sweep()
    with transaction.atomic():
        job = Job.objects.create(user=user, kind=kind, title=title[:200], params=params, stage="排队等待生成")
        audit.record(actor=user, action="job.create", obj=job, organisation=organisation,
                     detail={"kind": kind, "params": params})
        result = task.enqueue(job.pk)
        Job.objects.filter(pk=job.pk).update(task_id=str(result.id))
    job.refresh_from_db()
    return job


def job_download(*, user, job: Job) -> tuple[Path, str, str]:
    """The result file of the user's finished job: (path, file name, content type). Audited as
    the direct download it stands for; a 404 when it is gone or no longer allowed."""
    if job.user_id != user.pk or not job.downloadable:
        raise Http404
    org = job_org(job)
    if not may_have(user, job, org):
        raise Http404
    path = result_path(job.result_path)
    if path is None or not path.is_file():
        raise Http404
    action, content_type, _ = KINDS[job.kind]
    audit.record(actor=user, action=action, obj=org, organisation=org,
                 detail={**job.result_detail, "job": job.pk, "background": True})
    return path, job.result_name, content_type


def result_path(relative: str) -> Path | None:
    """The file a job's result_path names, only ever inside MEDIA_ROOT/jobs/."""
    if not relative:
        return None
    root = (Path(settings.MEDIA_ROOT) / RESULT_DIR).resolve()
    path = (Path(settings.MEDIA_ROOT) / relative).resolve()
    return path if path.is_relative_to(root) and path != root else None


class Progress:
    """Writes a job's progress at once (the worker runs outside a transaction, so the status
    page sees every step)."""

    def __init__(self, job: Job):
        self.job = job

    def __call__(self, done: int, total: int | None = None, stage: str | None = None) -> None:
        changes = {"progress_done": max(0, done)}
        if total is not None:
            changes["progress_total"] = max(0, total)
        if stage is not None:
            changes["stage"] = stage[:100]
        Job.objects.filter(pk=self.job.pk).update(**changes)
        for name, value in changes.items():
            setattr(self.job, name, value)


def run(job_id: int, work: Callable[[Job, Progress], Result]) -> str:
    """Run one job (called by its task in the worker): the work function checks the permission,
    reports progress and returns the Result, which is written under MEDIA_ROOT/jobs/. Expected
    failures (JobFailed, a permission lost) end the job with their message; anything else with a
    generic message, and is raised again so the worker records it."""
    job = Job.objects.select_related("user").filter(pk=job_id).first()
    if job is None or job.status != JobStatus.QUEUED:
        return "skipped"
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, started_at=timezone.now(), stage="正在准备")
    try:
        if not job.user.is_active:
            raise JobFailed(INACTIVE)
        org = job_org(job)
        if not may_have(job.user, job, org):
            raise JobFailed(NO_PERMISSION)
        result = work(job, Progress(job))
        relative = _write_result(job, result)
    except (PermissionDenied, Http404):
        _fail(job, NO_PERMISSION)
        return JobStatus.FAILED
    except JobFailed as e:
        _fail(job, e.message)
        return JobStatus.FAILED
    except Exception:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        _fail(job, GENERIC_ERROR)
        raise
    finally:
        sweep()
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.DONE, stage="已完成", progress_done=job.progress_total if job.progress_total else 1,
        progress_total=job.progress_total or 1, result_path=relative, result_name=result.name[:200],
        result_detail=result.detail, finished_at=timezone.now())
    return JobStatus.DONE


def _fail(job: Job, message: str) -> None:
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, stage="失败", error=message[:300],
                                         finished_at=timezone.now())


def _write_result(job: Job, result: Result) -> str:
    """Write the file under a generated name (never the user's text); returns its path
    relative to MEDIA_ROOT."""
    directory = Path(settings.MEDIA_ROOT) / RESULT_DIR
    directory.mkdir(parents=True, exist_ok=True)
    suffix = Path(result.name).suffix.lower()
    if suffix not in (".pdf", ".xlsx"):
        suffix = ".bin"
    name = f"{job.pk}-{secrets.token_hex(16)}{suffix}"
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            result.write(f)
        os.replace(tmp, directory / name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return f"{RESULT_DIR}/{name}"


def sweep(now: datetime.datetime | None = None) -> int:
    """Remove results older than JOB_RESULT_HOURS (and stray files of the jobs folder as old);
    the jobs stay listed, without a download. Returns the number of files removed."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(hours=settings.JOB_RESULT_HOURS)
    removed = 0
    for job in Job.objects.filter(finished_at__lt=cutoff).exclude(result_path="").only("id", "result_path"):
        path = result_path(job.result_path)
        if path is not None and path.exists():
            path.unlink(missing_ok=True)
            removed += 1
        Job.objects.filter(pk=job.pk).update(result_path="")
    directory = Path(settings.MEDIA_ROOT) / RESULT_DIR
    if directory.is_dir():
        for path in directory.iterdir():
            try:
                if path.is_file() and path.stat().st_mtime < cutoff.timestamp():
                    path.unlink(missing_ok=True)
                    removed += 1
            except FileNotFoundError:
                continue
    return removed
