"""我的导出任务: the user's background jobs, a job's progress page, its status as JSON (polled by
static/js/jobs.js) and the download of its result. Every page shows the requesting user's own
jobs only; anyone else's job is a 404 (commitments/jobs.py: job_get_for)."""
from django.http import FileResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from .. import jobs


@require_GET
def job_list(request):
    return render(request, "commitments/jobs/job_list.html", {"jobs": jobs.jobs_for(request.user)})


@require_GET
def job_detail(request, pk):
    job = jobs.job_get_for(request.user, pk)
    return render(request, "commitments/jobs/job_detail.html", {
        "job": job, "trail": [("我的导出任务", reverse("commitments:job_list"))]})


@require_GET
def job_status(request, pk):
    job = jobs.job_get_for(request.user, pk)
    response = JsonResponse(jobs.status_payload(job))
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def job_download(request, pk):
    job = jobs.job_get_for(request.user, pk)
    path, name, content_type = jobs.job_download(user=request.user, job=job)
    response = FileResponse(path.open("rb"), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
