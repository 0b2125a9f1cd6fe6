"""Background jobs (commitments/jobs.py, commitments/tasks.py): over a threshold the batch PDF and
the 承诺台账 become a job in the database (django-tasks-db), `manage.py db_worker --batch` makes
the file, and only the user who asked sees the progress and downloads it.

The tasks go through the real backend of the settings and the real worker command, run inline
for one batch; the results are read back (pdftotext, openpyxl), never compared as bytes.
"""
import datetime
import io
import re
import subprocess

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook

from commitments import jobs, pdf
from commitments.models import Job, JobStatus
from commitments.tasks import enqueue_batch_pdf
from orgs.models import AuditEvent
from portal.tasks import enqueue_ledger
from tests.conftest import make_commitment, make_member

NAMES = ["后台甲", "后台乙", "后台丙"]


def flat_pdf_text(data: bytes) -> str:
    out = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True,
                         check=True).stdout.decode()
    return re.sub(r"\s+", "", out)


def approved(world, member, reviewer):
    from commitments.models import Decision, ReviewDecision

    c = make_commitment(world.campaign, member=member, status="approved", items=1, actor=world.staff_a)
    ReviewDecision.objects.create(
        commitment=c, version=c.versions.get(), reviewer=reviewer, reviewer_org=member.branch,
        decision=Decision.APPROVE, opinion="同意", advanced=True, central_work=True, post_duties=True,
        public_wishes=True, feasible=True)
    return c


@pytest.fixture
def pledges(world, settings):
    settings.BACKGROUND_PDF_THRESHOLD = 2
    settings.SITE_URL = "https://gongkai.example.gov.cn"
    return [approved(world, make_member(world.branch_a, name), world.secretary_a) for name in NAMES]


def _download(client, job):
    response = client.get(reverse("commitments:job_download", args=[job.pk]))
    assert response.status_code == 200
    return response, b"".join(response.streaming_content)


def test_batch_pdf_over_the_threshold_becomes_a_job_the_worker_makes(world, pledges, client, run_worker):
    client.force_login(world.secretary_a)
    response = client.post(reverse("commitments:batch_pdf_job", args=[world.branch_a.pk]))
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("commitments:job_detail", args=[job.pk])
    assert (job.user, job.kind, job.status) == (world.secretary_a, "batch_pdf", JobStatus.QUEUED)
    assert job.params == {"org": world.branch_a.pk, "campaign": world.campaign.pk, "own_only": False}
    task_row = DBTaskResult.objects.get(id=job.task_id)
    assert task_row.task_path == "commitments.tasks.batch_pdf_task" and task_row.args_kwargs["args"] == [job.pk]
    assert AuditEvent.objects.filter(action="job.create", object_id=str(job.pk), actor=world.secretary_a).exists()

    page = client.get(response["Location"])
    assert "已转入后台生成，完成后可在此下载" in page.content.decode()
    html = page.content.decode()
    assert 'aria-valuenow="0"' in html and "js/jobs.js" in html
    # Without JavaScript: a 刷新 link to the page itself, no meta refresh.
    detail_url = reverse("commitments:job_detail", args=[job.pk])
    assert re.search(rf'<noscript><a [^>]*href="{detail_url}">刷新</a></noscript>', html)
    assert "http-equiv" not in html
    assert client.get(reverse("commitments:job_status", args=[job.pk])).json()["status"] == "queued"

    run_worker()

    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert job.progress_total == 3 and job.progress_done == 3 and job.percent == 100
    assert job.result_path.startswith("jobs/") and job.result_path.endswith(".pdf")
    assert job.result_name == f"公开承诺书-{world.branch_a.name}-2010.pdf"
    assert DBTaskResult.objects.get(id=job.task_id).status == "SUCCESSFUL"
    status = client.get(reverse("commitments:job_status", args=[job.pk])).json()
    assert (status["status"], status["done"], status["total"], status["percent"], status["downloadable"]) == (
        "done", 3, 3, 100, True)

    html = client.get(detail_url).content.decode()
    assert "<noscript>" not in html and 'aria-valuenow="100"' in html
    assert reverse("commitments:job_download", args=[job.pk]) in html

    response, data = _download(client, job)
    assert response["Content-Type"] == "application/pdf" and response["Cache-Control"] == "private, no-store"
    assert "attachment" in response["Content-Disposition"]
    text = flat_pdf_text(data)
    assert all(name in text for name in NAMES)
    assert text.count("党员公开承诺书") == 9  # three pledges in triplicate
    event = AuditEvent.objects.filter(action="commitment.print").latest("id")
    assert event.actor == world.secretary_a and event.organisation == world.branch_a
    assert event.detail["job"] == job.pk and event.detail["background"] is True
    assert sorted(event.detail["commitments"]) == sorted(c.pk for c in pledges)


def test_a_get_never_creates_the_job_only_the_post_does(world, pledges, client, run_worker):
    client.force_login(world.secretary_a)
    batch_url = reverse("commitments:batch_pdf", args=[world.branch_a.pk])
    job_url = reverse("commitments:batch_pdf_job", args=[world.branch_a.pk])
    # GET: a page whose button POSTs the job; nothing is written.
    audited = AuditEvent.objects.count()
    response = client.get(batch_url)
    html = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert f'action="{job_url}"' in html and "csrfmiddlewaretoken" in html and "共有3份" in html
    assert not Job.objects.exists() and AuditEvent.objects.count() == audited
    assert client.get(job_url).status_code == 405
    assert not Job.objects.exists()

    response = client.post(job_url)
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("commitments:job_detail", args=[job.pk])
    # While it is being made, the GET shows that job; a second POST queues no other.
    assert client.get(batch_url)["Location"] == response["Location"]
    assert client.post(job_url)["Location"] == response["Location"] and Job.objects.count() == 1

    run_worker()
    # Made: the GET offers its download and a button to make it again, still writing nothing.
    html = client.get(batch_url).content.decode()
    assert reverse("commitments:job_detail", args=[job.pk]) in html and "重新生成" in html
    assert Job.objects.count() == 1
    # ?scope=own is another batch, with its own job.
    assert client.get(batch_url + "?scope=own").status_code == 200
    client.post(job_url, {"scope": "own"})
    assert Job.objects.count() == 2 and Job.objects.latest("id").params["own_only"] is True


def test_a_small_batch_posted_is_sent_back_to_the_pdf(world, pledges, client, settings):
    settings.BACKGROUND_PDF_THRESHOLD = 3
    client.force_login(world.secretary_a)
    response = client.post(reverse("commitments:batch_pdf_job", args=[world.branch_a.pk]), {"scope": "own"})
    assert response.status_code == 302
    assert response["Location"] == reverse("commitments:batch_pdf", args=[world.branch_a.pk]) + "?scope=own"
    assert not Job.objects.exists()
    assert client.post(reverse("commitments:batch_pdf_job", args=[world.branch_b.pk])).status_code == 404


def test_under_the_threshold_the_batch_is_answered_at_once(world, pledges, client, settings):
    settings.BACKGROUND_PDF_THRESHOLD = 3
    client.force_login(world.secretary_a)
    response = client.get(reverse("commitments:batch_pdf", args=[world.branch_a.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert not Job.objects.exists()


def test_only_the_requesting_user_sees_and_downloads_a_job(world, pledges, client, run_worker):
    job = enqueue_batch_pdf(user=world.secretary_a, org=world.branch_a, campaign=world.campaign, own_only=False)
    run_worker()
    # The committee's secretary may print the same batch, but the job is secretary_a's.
    for other in (world.committee_secretary, world.staff_a, world.admin):
        client.force_login(other)
        for name in ("job_detail", "job_status", "job_download"):
            assert client.get(reverse(f"commitments:{name}", args=[job.pk])).status_code == 404, (other, name)
        assert job.title not in client.get(reverse("commitments:job_list")).content.decode()
    client.force_login(world.secretary_a)
    listing = client.get(reverse("commitments:job_list")).content.decode()
    assert job.title in listing and reverse("commitments:job_download", args=[job.pk]) in listing
    _download(client, job)


def test_a_user_who_lost_the_permission_can_no_longer_download(world, pledges, client, run_worker):
    from orgs.models import RoleGrant

    job = enqueue_batch_pdf(user=world.staff_a, org=world.branch_a, campaign=world.campaign, own_only=False)
    run_worker()
    assert Job.objects.get(pk=job.pk).status == JobStatus.DONE
    RoleGrant.objects.filter(user=world.staff_a).update(role="member")
    client.force_login(world.staff_a)
    assert client.get(reverse("commitments:job_download", args=[job.pk])).status_code == 404


def test_the_worker_checks_the_permission_again(world, pledges, client, run_worker):
    from orgs.models import RoleGrant

    job = enqueue_batch_pdf(user=world.staff_a, org=world.branch_a, campaign=world.campaign, own_only=False)
    RoleGrant.objects.filter(user=world.staff_a).update(role="member")  # demoted while queued
    run_worker()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error == jobs.NO_PERMISSION and not job.result_path
    client.force_login(world.staff_a)
    page = client.get(reverse("commitments:job_detail", args=[job.pk])).content.decode()
    assert jobs.NO_PERMISSION in page
    assert client.get(reverse("commitments:job_download", args=[job.pk])).status_code == 404


def test_a_failing_job_shows_its_chinese_message(world, pledges, client, monkeypatch, run_worker):
    def broken(*args, **kwargs):
        raise RuntimeError("weasyprint exploded")

    monkeypatch.setattr(pdf, "forms_for", broken)
    job = enqueue_batch_pdf(user=world.secretary_a, org=world.branch_a, campaign=world.campaign, own_only=False)
    run_worker()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error == jobs.GENERIC_ERROR and job.finished_at
    # The worker records the exception too, for the operator.
    assert DBTaskResult.objects.get(id=job.task_id).status == "FAILED"
    client.force_login(world.secretary_a)
    page = client.get(reverse("commitments:job_detail", args=[job.pk])).content.decode()
    assert jobs.GENERIC_ERROR in page and "weasyprint" not in page
    status = client.get(reverse("commitments:job_status", args=[job.pk])).json()
    assert (status["status"], status["status_label"], status["error"], status["finished"]) == (
        "failed", "失败", jobs.GENERIC_ERROR, True)


def test_nothing_to_print_fails_with_its_reason(world, client, settings, run_worker):
    job = enqueue_batch_pdf(user=world.secretary_a, org=world.branch_a, campaign=world.campaign, own_only=False)
    run_worker()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "暂无可打印" in job.error


def test_results_are_swept_after_a_day(world, pledges, client, settings, run_worker):
    job = enqueue_batch_pdf(user=world.secretary_a, org=world.branch_a, campaign=world.campaign, own_only=False)
    run_worker()
    job.refresh_from_db()
    path = settings.MEDIA_ROOT / job.result_path
    assert path.is_file()
    assert jobs.sweep() == 0 and path.is_file()
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - datetime.timedelta(hours=25))
    # A new job sweeps the old results.
    enqueue_batch_pdf(user=world.secretary_a, org=world.branch_a, campaign=world.campaign, own_only=True)
    assert not path.exists()
    job.refresh_from_db()
    assert job.result_path == "" and not job.downloadable
    client.force_login(world.secretary_a)
    assert client.get(reverse("commitments:job_download", args=[job.pk])).status_code == 404
    assert "已超过保存期限" in client.get(reverse("commitments:job_detail", args=[job.pk])).content.decode()


def test_big_ledger_becomes_a_job_with_a_real_workbook(world, client, settings, run_worker):
    settings.LEDGER_BACKGROUND_THRESHOLD = 2
    for name in NAMES:
        make_commitment(world.campaign, member=make_member(world.branch_a, name), status="draft",
                        actor=world.staff_a)
    client.force_login(world.committee_secretary)
    url = reverse("portal:ledger_xlsx") + f"?org={world.committee.pk}&campaign=2010"
    # A GET never queues anything: it shows the count and the button that POSTs.
    page = client.get(url)
    assert page.status_code == 200 and "转入后台生成" in page.content.decode() and not Job.objects.exists()
    response = client.post(reverse("portal:ledger_job") + f"?org={world.committee.pk}&campaign=2010")
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("commitments:job_detail", args=[job.pk])
    assert job.kind == "ledger_xlsx" and job.user == world.committee_secretary

    run_worker()

    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert (job.progress_done, job.progress_total) == (3, 3)
    response, data = _download(client, job)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    assert rows[0][0] == f"{world.committee.name}{world.campaign.name}台账"
    assert sorted(row[2] for row in rows[3:]) == sorted(NAMES)
    event = AuditEvent.objects.filter(action="ledger.export").latest("id")
    assert event.actor == world.committee_secretary and event.detail["job"] == job.pk

    # Under the threshold the workbook is answered at once, as before.
    settings.LEDGER_BACKGROUND_THRESHOLD = 3
    direct = client.get(url)
    assert direct.status_code == 200 and Job.objects.count() == 1


def test_ledger_job_progress_is_written_per_chunk(world, settings, monkeypatch, run_worker):
    from portal import ledger

    monkeypatch.setattr(ledger, "CHUNK", 2)
    seen = []
    real = jobs.Progress.__call__

    def spy(self, done, total=None, stage=None):
        seen.append(done)
        return real(self, done, total, stage)

    monkeypatch.setattr(jobs.Progress, "__call__", spy)
    for name in NAMES + ["后台丁", "后台戊"]:
        make_commitment(world.campaign, member=make_member(world.branch_a, name), status="draft",
                        actor=world.staff_a)
    job = enqueue_ledger(user=world.secretary_a, org=world.branch_a, campaign=world.campaign)
    run_worker()
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and (job.progress_done, job.progress_total) == (5, 5)
    assert seen == [0, 2, 4, 5]


def test_ledger_get_goes_to_the_running_job_and_a_small_post_goes_back(world, client, settings):
    """A GET of a big ledger whose job is still queued leads to that job (no second one); a POST for
    a ledger small enough is sent back to the download."""
    settings.LEDGER_BACKGROUND_THRESHOLD = 2
    for name in NAMES:
        make_commitment(world.campaign, member=make_member(world.branch_a, name), status="draft",
                        actor=world.staff_a)
    client.force_login(world.committee_secretary)
    query = f"?org={world.committee.pk}&campaign=2010"
    client.post(reverse("portal:ledger_job") + query)
    job = Job.objects.get()
    again = client.get(reverse("portal:ledger_xlsx") + query)
    assert again.status_code == 302 and again["Location"] == reverse("commitments:job_detail", args=[job.pk])
    client.post(reverse("portal:ledger_job") + query)
    assert Job.objects.count() == 1  # the queued job is reused
    settings.LEDGER_BACKGROUND_THRESHOLD = 3
    back = client.post(reverse("portal:ledger_job") + query)
    assert back.status_code == 302 and back["Location"] == reverse("portal:ledger_xlsx") + query
    assert Job.objects.count() == 1

