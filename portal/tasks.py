"""The ledger's background task (django.tasks, run by `manage.py db_worker`): the ledger streams its
rows into a write-only workbook, with the progress written every ledger.CHUNK commitments. The job
framework (who may have the result, progress, the result file) is commitments/jobs.py.
"""
import shutil

from django.tasks import task
from django.utils import timezone

from commitments import jobs
from commitments.models import Campaign, Job, JobKind
from core.templatetags.cn import cn_date
from core.xlsx import write_xlsx

from . import ledger

# --- 承诺台账 ------------------------------------------------------------------------------------

def ledger_title(org, campaign) -> str:
    return f"{org.name}{campaign.year}年承诺台账"


def ledger_count(org, campaign) -> int:
    """How many commitments (rows) the ledger of `org`'s subtree has."""
    return ledger._commitments(org, campaign).order_by().count()


def _ledger(job: Job, progress: jobs.Progress) -> jobs.Result:
    org = jobs.job_org(job)
    campaign = Campaign.objects.filter(pk=job.params.get("campaign")).first()
    if campaign is None:
        raise jobs.JobFailed("活动年度已不存在，无法生成。")
    total = ledger_count(org, campaign)
    progress(0, total, f"正在导出（共{total}份承诺）")
    today = timezone.localdate()

    def rows():
        done = 0
        for row in ledger.ledger_rows(org, campaign, today=today):
            yield row
            done += 1
            if done % ledger.CHUNK == 0:
                progress(done, total, f"已导出{done}/{total}份承诺")
        progress(done, max(total, done), "正在保存文件")

    handle = write_xlsx(title=ledger.ledger_heading(org, campaign), subtitle=f"导出日期：{cn_date(today)}",
                        columns=ledger.COLUMNS, rows=rows(), sheet_name="承诺台账")
    return jobs.Result(f"{ledger_title(org, campaign)}.xlsx", lambda f: shutil.copyfileobj(handle, f),
                       {"campaign": campaign.year, "kind": "commitments", "rows": total})


@task
def ledger_task(job_id: int) -> str:
    return jobs.run(job_id, _ledger)


def enqueue_ledger(*, user, org, campaign) -> Job:
    return jobs.job_create(user=user, kind=JobKind.LEDGER_XLSX, title=ledger_title(org, campaign),
                           params={"org": org.pk, "campaign": campaign.pk}, organisation=org, task=ledger_task)
