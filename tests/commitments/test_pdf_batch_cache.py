"""Batches of printable forms built from the per-form cache (commitments/pdf.py): a batch renders
only the forms not printed before, lays the missing ones out a chunk at a time, concatenates the
forms' own PDFs (streamed into a file for the background job) and prints exactly what one
WeasyPrint pass over the same forms prints. Read back with pdftotext and pypdf, never the bytes.
"""
import io
import re

import pytest
from pypdf import PdfReader

from commitments import jobs, pdf, tasks
from commitments.models import Job, JobStatus
from tests.commitments.test_pdf import (VENDORED_FONTS, approved_org_commitment, approved_pledge, embedded_fonts, flat,
                                        long_pledge, pages)
from tests.conftest import make_commitment, make_member


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SITE_URL = "https://gongkai.example.gov.cn"
    return tmp_path


@pytest.fixture
def renders(monkeypatch):
    """How many forms WeasyPrint lays out, and in how many passes (render_forms: one per chunk)."""
    counted = {"chunked": 0, "chunks": 0}
    chunked = pdf.render_forms

    def spy_chunked(forms):
        counted["chunks"] += 1
        counted["chunked"] += len(forms)
        return chunked(forms)

    monkeypatch.setattr(pdf, "render_forms", spy_chunked)
    counted["forms"] = lambda: counted["chunked"]
    return counted


def batch_forms(world, org=None):
    return pdf.forms_for(pdf.batch_commitments(org or world.committee, world.campaign))


@pytest.fixture
def printable(world):
    """Two organisations' commitments and four pledges (one over several pages) in the committee."""
    approved_org_commitment(world, world.branch_a)
    approved_org_commitment(world, world.branch_c)
    approved_pledge(world, world.member_a)
    approved_pledge(world, world.member_a2)
    approved_pledge(world, world.member_c, reviewer=world.committee_secretary)
    long_pledge(world)
    return batch_forms(world)


def subset_tags(data: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(data))
    names = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            names[font.indirect_reference.idnum] = str(font["/BaseFont"])
    return list(names.values())


# --- what a batch prints ---------------------------------------------------------------------------

def test_a_batch_from_cached_forms_prints_what_one_pass_printed(world, printable):
    one_pass = pdf.forms_document(printable, title="批量")
    pdf.render_missing(printable[:2])  # some forms were printed before, alone
    data = pdf.forms_pdf(printable, title="公开承诺书-某局机关党委-2010")

    assert pages(data) == pages(one_pass)
    assert pages(data, "-layout") == pages(one_pass, "-layout")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == len(PdfReader(io.BytesIO(one_pass)).pages) > 3 * len(printable)
    assert reader.metadata.title == "公开承诺书-某局机关党委-2010"
    assert reader.metadata.creator == "公开承诺管理系统"
    assert reader.trailer["/Root"]["/Lang"] == "zh-CN"
    # One bookmark per copy (its <h1>), as before, each on the first page of its copy.
    assert [b.title for b in reader.outline] == [b.title for b in PdfReader(io.BytesIO(one_pass)).outline]
    firsts = [reader.get_destination_page_number(b) for b in reader.outline]
    layout = pages(data, "-layout")
    assert all(flat(layout[n]).startswith(("附件1：", "附件2：")) for n in firsts)
    assert len(firsts) == 3 * len(printable)


def test_every_form_keeps_its_fonts_under_a_tag_of_its_own(world, printable):
    data = pdf.forms_pdf(printable[:3], title="t")
    assert embedded_fonts(data) == VENDORED_FONTS - {"NotoSerifCJKsc-Regular-Names"}
    tags = subset_tags(data)
    # Three faces per form, each form's subsets under their own tag (ISO 32000-1, 9.6.4).
    assert len(tags) == 9 and len(set(tags)) == 9
    assert all(re.fullmatch(r"/[A-Z]{6}\+Fandol\w+(-Bold,)?", tag) for tag in tags), tags
    # Merging keeps the forms' own subsets: about the size of the three files, not more.
    alone = sum(len(pdf.form_pdf(form)[0]) for form in printable[:3])
    assert alone * 0.95 < len(data) < alone * 1.05


def test_a_form_rendered_in_a_chunk_is_the_form_rendered_alone(world, printable, media):
    rendered = pdf.render_forms(printable)
    assert rendered is not None and len(rendered) == len(printable)
    for form, data in zip(printable, rendered):
        alone = pdf.forms_document([form], title=pdf.filename_for(form)[:-4])
        assert pages(data) == pages(alone) and pages(data, "-layout") == pages(alone, "-layout")
        assert PdfReader(io.BytesIO(data)).metadata.title == pdf.filename_for(form)[:-4]
    long = [data for form, data in zip(printable, rendered) if form["owner_name"] == "赵长文"]
    assert len(pages(long[0])) > 3  # the long pledge, with its continuation pages


# --- the cache -------------------------------------------------------------------------------------

def test_a_batch_renders_only_the_forms_not_printed_before(world, printable, renders, media):
    pdf.form_pdf(printable[1])
    pdf.form_pdf(printable[4])
    assert renders["forms"]() == 2 and renders["chunks"] == 2
    pdf.forms_pdf(printable, title="t")
    assert renders["forms"]() == len(printable)
    assert renders["chunks"] == 3  # the four missing forms, laid out in one pass
    assert len(list((media / "forms").glob("*.pdf"))) == len(printable)

    again = pdf.forms_pdf(printable, title="t")
    assert renders["forms"]() == len(printable)  # a reprint renders nothing
    assert len(pages(again)) == sum(len(pages(pdf.form_pdf(form)[0])) for form in printable)
    # And the single form's download finds the batch's render.
    assert pdf.form_pdf(printable[0])[1] is True


def test_missing_forms_are_laid_out_a_chunk_at_a_time(world, printable, renders, monkeypatch):
    monkeypatch.setattr(pdf, "RENDER_CHUNK", 5)
    seen = []
    assert pdf.render_missing(printable, on_progress=seen.append) == len(printable) == 6
    # Five in one pass, the last one in a pass of its own.
    assert renders["chunks"] == 2 and renders["chunked"] == 6
    assert seen == [5, 6]
    assert pdf.render_missing(printable, on_progress=seen.append) == 0
    assert seen[-1] == len(printable)


def test_a_changed_record_is_printed_again_in_the_batch(world, printable, renders, media):
    before = flat("".join(pages(pdf.forms_pdf(printable, title="t"))))
    assert "副科长" not in before
    world.member_a.post = "副科长"
    world.member_a.save()
    forms = batch_forms(world)
    data = pdf.forms_pdf(forms, title="t")
    assert renders["forms"]() == len(printable) + 1
    assert flat("".join(pages(data))).count("副科长") == 3
    assert len(list((media / "forms").glob("*.pdf"))) == len(printable)  # the old render dropped


def test_a_cached_file_gone_meanwhile_is_rendered_again(world, printable, media):
    pdf.render_missing(printable)
    for path in (media / "forms").glob("*.pdf"):
        path.unlink()
    data = pdf.forms_pdf(printable[:2], title="t")
    assert len(pages(data)) == 6


# --- streaming into a file -------------------------------------------------------------------------

def test_the_concatenation_is_written_as_it_goes(world, printable, tmp_path):
    pdf.render_missing(printable)
    with open(tmp_path / "out.pdf", "wb") as out:
        concatenation = pdf.PdfConcatenation(out, title="流式")
        sizes = []
        for form in printable:
            concatenation.append(pdf.form_pdf(form)[0])
            sizes.append(out.tell())
        # Each form's pages are in the file before the next form is read.
        assert sizes == sorted(sizes) and sizes[0] > 20_000
        assert concatenation.close() == len(pages(pdf.forms_pdf(printable, title="t")))
    data = (tmp_path / "out.pdf").read_bytes()
    assert pages(data) == pages(pdf.forms_pdf(printable, title="t"))
    assert PdfReader(io.BytesIO(data), strict=True).metadata.title == "流式"


def test_the_background_job_writes_the_batch_from_the_cache(world, printable, renders, settings, media):
    settings.BACKGROUND_PDF_THRESHOLD = 2
    pdf.form_pdf(printable[0])
    job = tasks.enqueue_batch_pdf(user=world.committee_secretary, org=world.committee, campaign=world.campaign,
                                  own_only=False)
    assert jobs.run(job.pk, tasks._batch_pdf) == JobStatus.DONE
    job = Job.objects.get(pk=job.pk)
    assert (job.progress_done, job.progress_total) == (len(printable), len(printable))
    assert renders["forms"]() == len(printable)
    data = (media / job.result_path).read_bytes()
    one_pass = pdf.forms_document(printable, title="t")
    assert pages(data) == pages(one_pass)
    rendered = renders["forms"]()
    assert PdfReader(io.BytesIO(data)).metadata.title == tasks.batch_title(world.committee, world.campaign, False)

    # A second job over the same forms renders nothing.
    job = tasks.enqueue_batch_pdf(user=world.committee_secretary, org=world.committee, campaign=world.campaign,
                                  own_only=False)
    assert jobs.run(job.pk, tasks._batch_pdf) == JobStatus.DONE
    assert renders["forms"]() == rendered
    assert len(pages((media / Job.objects.get(pk=job.pk).result_path).read_bytes())) == len(pages(data))


def test_approving_queues_the_layout_of_the_printable_form(world, settings, renders, run_worker,
                                                            django_capture_on_commit_callbacks):
    """An approval (one by one or in bulk) queues one task that lays the forms out into the cache
    (settings.PDF_PRERENDER), so the staff's printing finds them rendered."""
    from django_tasks_db.models import DBTaskResult

    from reviews.services import review_bulk_approve

    settings.PDF_PRERENDER = True
    with django_capture_on_commit_callbacks(execute=True):
        single = approved_pledge(world, world.member_a)
    pledges = [make_commitment(world.campaign, member=m, status="submitted", actor=world.staff_a, items=2)
               for m in (world.member_a2, make_member(world.branch_a, "钱七"))]
    with django_capture_on_commit_callbacks(execute=True):
        approved, failed = review_bulk_approve(actor=world.secretary_a, opinion="同意。",
                                               targets=[(c.pk, c.version) for c in pledges],
                                               shown={(c.pk, c.version) for c in pledges})
    assert len(approved) == 2 and not failed
    queued = DBTaskResult.objects.filter(task_path="commitments.tasks.prerender_forms_task")
    assert [row.args_kwargs["args"][0] for row in queued.order_by("enqueued_at")] == [
        [single.pk], sorted(c.pk for c in pledges)]
    assert renders["forms"]() == 0
    run_worker()
    assert renders["forms"]() == 3 and set(queued.values_list("status", flat=True)) == {"SUCCESSFUL"}
    # Printing the branch's batch now lays nothing out.
    forms = batch_forms(world, world.branch_a)
    assert len(forms) == 3
    pdf.forms_pdf(forms, title="批量")
    assert renders["forms"]() == 3
