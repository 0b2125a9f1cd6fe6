"""The background tasks (django.tasks) behind commitments/jobs.py, run by `manage.py db_worker`.

Each task takes only the job's id; the job row holds the user who asked and the parameters, and
jobs.run() checks again, with that user, that they may have the result before any work is done.

The batch PDF is laid out CHUNK forms at a time (WeasyPrint's render() of one HTML document per
chunk), with the progress written after each chunk, and the pages of all chunks are written as
one PDF in a single write_pdf call (WeasyPrint's documented way of combining documents). The
ledger streams its rows into a write-only workbook, with the progress written every ledger.CHUNK
commitments.
"""
from __future__ import annotations

from django.tasks import task
from django.template.loader import render_to_string

from . import jobs, ledger, pdf
from .models import Campaign, Job

PDF_CHUNK = 20  # forms laid out per WeasyPrint render


# --- batch PDF -----------------------------------------------------------------------------------

def render_forms_in_chunks(forms: list[dict], *, title: str, on_chunk) -> bytes:
    """forms_pdf(), chunk by chunk: the same template, fetcher and fonts (commitments/pdf.py)."""
    from weasyprint import HTML

    pages, first = [], None
    with pdf._render_lock:
        for start in range(0, len(forms), PDF_CHUNK):
            chunk = forms[start:start + PDF_CHUNK]
            html = render_to_string(pdf.DOCUMENT_TEMPLATE, pdf._document_context(chunk, title=title))
            document = HTML(string=html, base_url=pdf.STATIC_SCHEME, url_fetcher=pdf.safe_fetcher()).render(
                font_config=pdf._font_config())
            first = first or document
            pages.extend(document.pages)
            on_chunk(start + len(chunk))
        return first.copy(pages).write_pdf()


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

    def on_chunk(done):
        stage = f"已排版{done}/{total}份" if done < total else "正在合成PDF文件"
        progress(done, total, stage)

    data = render_forms_in_chunks(forms, title=title, on_chunk=on_chunk)
    detail = {"batch": True, "scope": "own" if own_only else "subtree", "campaign": campaign.year,
              "forms": total, "commitments": [f["commitment_id"] for f in forms]}
    return jobs.Result(f"{title}.pdf", lambda f: f.write(data), detail)


@task
def batch_pdf_task(job_id: int) -> str:
    return jobs.run(job_id, _batch_pdf)


# --- 承诺台账 ------------------------------------------------------------------------------------

def ledger_title(org, campaign) -> str:
    return f"{org.name}{campaign.year}年承诺台账"


def ledger_count(org, campaign) -> int:
    """How many commitments (rows) the ledger of `org`'s subtree has."""
    return ledger._commitments(org, campaign).order_by().count()


def _ledger(job: Job, progress: jobs.Progress) -> jobs.Result:
    import shutil

    from django.utils import timezone

    from orgs.templatetags.cn import cn_date
    from orgs.xlsx import write_xlsx

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

    handle = write_xlsx(title=f"{org.name}{campaign.name}承诺台账", subtitle=f"导出日期：{cn_date(today)}",
                        columns=ledger.COLUMNS, rows=rows(), sheet_name="承诺台账")
    return jobs.Result(f"{ledger_title(org, campaign)}.xlsx", lambda f: shutil.copyfileobj(handle, f),
                       {"campaign": campaign.year, "kind": "commitments", "rows": total})


@task
def ledger_task(job_id: int) -> str:
    return jobs.run(job_id, _ledger)


# --- enqueueing (the views call these above their thresholds) ------------------------------------

def enqueue_batch_pdf(*, user, org, campaign, own_only: bool) -> Job:
    from .models import JobKind

    return jobs.job_create(user=user, kind=JobKind.BATCH_PDF, title=batch_title(org, campaign, own_only),
                           params={"org": org.pk, "campaign": campaign.pk, "own_only": own_only},
                           organisation=org, task=batch_pdf_task)


def enqueue_ledger(*, user, org, campaign) -> Job:
    from .models import JobKind

    return jobs.job_create(user=user, kind=JobKind.LEDGER_XLSX, title=ledger_title(org, campaign),
                           params={"org": org.pk, "campaign": campaign.pk}, organisation=org, task=ledger_task)
