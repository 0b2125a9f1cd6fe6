"""践诺: progress entries, derived item statuses, evidence files and their downloads."""
import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from commitments import selectors, services
from commitments.models import Attachment, ItemProgress, ProgressEntry
from core.errors import Conflict
from orgs.models import AuditEvent
from tests.commitments.evidence import PDF_BYTES, image_bytes, pdf_bytes, pdf_upload, png_upload, record
from tests.commitments.publishing import approved, published

pytestmark = pytest.mark.django_db
DAY = datetime.date


@pytest.fixture
def pledge(world):
    """member_a's written pledge, published with two items due 2010-12-31."""
    return published(world, member=world.member_a)


def item_ids(c):
    return [i["id"] for i in c.public_version.snapshot["items"]]


# --- status derivation -------------------------------------------------------------------------

def test_status_is_derived_from_entries_and_deadline():
    f = selectors.item_progress_status
    assert f(deadline=DAY(2010, 12, 31), entries=0, completed=False, today=DAY(2010, 11, 1)) == ItemProgress.NOT_STARTED
    assert f(deadline=DAY(2010, 12, 31), entries=2, completed=False, today=DAY(2010, 11, 1)) == ItemProgress.IN_PROGRESS
    assert f(deadline=DAY(2010, 12, 31), entries=2, completed=True, today=DAY(2011, 3, 1)) == ItemProgress.DONE
    assert f(deadline=DAY(2010, 12, 31), entries=0, completed=False, today=DAY(2011, 1, 1)) == ItemProgress.OVERDUE
    assert f(deadline=DAY(2010, 12, 31), entries=3, completed=False, today=DAY(2011, 1, 1)) == ItemProgress.OVERDUE
    # The deadline day itself is not yet overdue.
    assert f(deadline=DAY(2010, 12, 31), entries=0, completed=False, today=DAY(2010, 12, 31)) == ItemProgress.NOT_STARTED


def test_item_statuses_of_a_commitment(world, pledge):
    first, second = item_ids(pledge)
    record(pledge, world.staff_a, item=first, on=DAY(2010, 11, 1))
    record(pledge, world.staff_a, item=first, on=DAY(2010, 11, 20), completes_item=True)
    rows = selectors.progress_items_for(pledge, today=DAY(2010, 12, 1))
    assert [(r.id, r.status, r.entries) for r in rows] == [(first, "done", 2), (second, "not_started", 0)]
    assert rows[0].completed_on == DAY(2010, 11, 20)
    rows = selectors.progress_items_for(pledge, today=DAY(2011, 1, 1))
    assert [r.status for r in rows] == ["done", "overdue"]
    record(pledge, world.staff_a, item=second, on=DAY(2010, 11, 2))
    assert [r.status for r in selectors.progress_items_for(pledge, today=DAY(2010, 12, 1))] == ["done", "in_progress"]


def test_today_defaults_to_localdate(world, pledge, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: DAY(2011, 1, 1))
    assert {r.status for r in selectors.progress_items_for(pledge)} == {"overdue"}


def test_public_statuses_count_public_entries_only(world, pledge):
    record(pledge, world.staff_a, completes_item=True)
    assert selectors.progress_items_for(pledge, today=DAY(2010, 12, 1), public_only=True)[0].status == "not_started"
    assert selectors.progress_items_for(pledge, today=DAY(2010, 12, 1))[0].status == "done"


# --- services ----------------------------------------------------------------------------------

def test_record_happy_path_stores_files_under_generated_names_and_audits(world, pledge):
    entry = record(pledge, world.staff_a, is_public=True, files=[png_upload(), pdf_upload()])
    assert entry.is_public and entry.recorded_by == world.staff_a and entry.item_id == item_ids(pledge)[0]
    png, pdf = entry.attachments.order_by("id")
    assert (png.content_type, png.original_name) == ("image/png", "现场照片.png")
    assert (pdf.content_type, pdf.original_name) == ("application/pdf", "总结.pdf")
    for att in (png, pdf):
        assert att.path.startswith("evidence/") and "现场" not in att.path and "总结" not in att.path
        stored = Path(settings.MEDIA_ROOT) / att.path
        assert stored.read_bytes()[:4] in (b"\x89PNG", b"%PDF") and stored.stat().st_size == att.size
        assert len(att.sha256) == 64
    event = AuditEvent.objects.get(action="progress.record")
    assert event.actor == world.staff_a and event.organisation == world.branch_a
    assert event.object_id == str(entry.pk) and event.detail["visibility"] == "public"


def test_member_records_on_own_written_pledge(world, pledge):
    entry = record(pledge, world.member_user_a)
    assert entry.recorded_by == world.member_user_a


def test_branch_staff_record_for_member_without_account(world):
    c = published(world, member=world.member_a2)
    assert record(c, world.staff_a).recorded_by == world.staff_a


@pytest.mark.parametrize("actor", ["secretary_b", "outsider", "auditor", "admin"])
def test_wrong_actor_is_refused(world, pledge, actor):
    with pytest.raises(PermissionDenied):
        record(pledge, getattr(world, actor))
    assert not ProgressEntry.objects.exists() and not AuditEvent.objects.filter(action="progress.record").exists()


def test_unpublished_commitment_is_refused(world):
    c = approved(world, member=world.member_a)
    item = c.items.first()
    with pytest.raises(Conflict):
        services.progress_record(actor=world.staff_a, commitment=c, item_id=item.pk, happened_on=DAY(2010, 11, 1),
                                 done="做了")
    assert not ProgressEntry.objects.exists()


def test_under_revision_public_items_still_take_entries_but_draft_items_do_not(world, pledge):
    services.commitment_revise(actor=world.staff_a, commitment=pledge, version=pledge.version)
    pledge.refresh_from_db()
    assert pledge.status == "draft" and pledge.public_version_id
    assert record(pledge, world.staff_a).pk
    new = services.commitment_add_item(actor=world.staff_a, commitment=pledge, content="新增事项", measures="措施",
                                       deadline=DAY(2010, 12, 31))
    new_id = getattr(new, "pk", None) or pledge.items.order_by("-id").first().pk
    with pytest.raises(ValidationError) as exc:
        record(pledge, world.staff_a, item=new_id)
    assert "item" in exc.value.error_dict


def test_field_errors_are_keyed_and_in_chinese(world, pledge):
    with pytest.raises(ValidationError) as exc:
        services.progress_record(actor=world.staff_a, commitment=pledge, item_id=item_ids(pledge)[0],
                                 happened_on=DAY(2999, 1, 1), done="  ")
    assert exc.value.message_dict == {"happened_on": ["日期不能晚于今天。"], "done": ["请填写做了什么。"]}


# --- evidence checks ---------------------------------------------------------------------------

def _refused(world, pledge, upload):
    with pytest.raises(ValidationError) as exc:
        record(pledge, world.staff_a, files=[upload])
    assert not Attachment.objects.exists() and not ProgressEntry.objects.exists()
    assert not list(Path(settings.MEDIA_ROOT).glob("evidence/*"))
    return exc.value.message_dict["files"]


def test_png_headed_html_is_refused(world, pledge):
    fake = b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>"
    assert "不是有效的JPEG、PNG图片或PDF文档" in _refused(world, pledge, SimpleUploadedFile("a.png", fake))[0]


def test_truncated_png_with_real_header_is_refused(world, pledge):
    data = image_bytes()
    _refused(world, pledge, SimpleUploadedFile("a.png", data[:40] + b"<html>" + data[-12:]))


def test_unknown_content_is_refused_whatever_the_name(world, pledge):
    _refused(world, pledge, SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not an image"))


def test_evidence_pdf_with_javascript_is_refused(world, pledge):
    """Evidence goes through the same PDF checks as the stamped forms (commitments/uploads.py)."""
    assert "含有脚本" in _refused(world, pledge, SimpleUploadedFile("总结.pdf", pdf_bytes(javascript=True)))[0]


def test_oversize_file_is_refused(world, pledge, settings):
    settings.EVIDENCE_MAX_BYTES = 1024 * 1024
    big = image_bytes(size=(1200, 1200))  # a real PNG, just too large once padded below
    upload = SimpleUploadedFile("big.png", big + b"\0" * (1024 * 1024))
    assert "超过1MB" in _refused(world, pledge, upload)[0]


def test_too_many_files_are_refused(world, pledge, settings):
    settings.EVIDENCE_MAX_FILES = 2
    with pytest.raises(ValidationError) as exc:
        record(pledge, world.staff_a, files=[png_upload(), png_upload(), png_upload()])
    assert exc.value.message_dict["files"] == ["每条记录最多上传2个佐证材料。"]


def test_path_traversal_name_is_stored_under_generated_name_and_shown_sanitised(world, pledge):
    entry = record(pledge, world.staff_a, files=[png_upload("../../etc/passwd")])
    att = entry.attachments.get()
    assert att.original_name == "passwd.png"
    assert att.path.startswith("evidence/") and ".." not in att.path and "passwd" not in att.path
    assert (Path(settings.MEDIA_ROOT) / att.path).is_file()
    assert not (Path(settings.MEDIA_ROOT).parent / "etc").exists()


def test_jpg_name_with_pdf_content_is_stored_as_pdf(world, pledge):
    """Decision: the content decides; the file is kept as a PDF and shown with a .pdf name."""
    att = record(pledge, world.staff_a, files=[SimpleUploadedFile("照片.jpg", PDF_BYTES)]).attachments.get()
    assert (att.content_type, att.original_name) == ("application/pdf", "照片.pdf") and att.path.endswith(".pdf")


def test_real_jpeg_is_accepted(world, pledge):
    att = record(pledge, world.staff_a, files=[SimpleUploadedFile("x.JPG", image_bytes("JPEG"))]).attachments.get()
    assert att.content_type == "image/jpeg" and att.original_name == "x.jpg"


def test_files_are_removed_when_the_transaction_fails(world, pledge, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr("orgs.audit.record", boom)
    with pytest.raises(RuntimeError):
        record(pledge, world.staff_a, files=[png_upload(), pdf_upload()])
    assert not ProgressEntry.objects.exists() and not list(Path(settings.MEDIA_ROOT).glob("evidence/*"))


# --- downloads ---------------------------------------------------------------------------------

def test_officer_downloads_with_safe_headers_and_it_is_audited(world, pledge, as_user):
    att = record(pledge, world.staff_a, files=[pdf_upload("总结 \"1\".pdf")]).attachments.get()
    response = as_user(world.secretary_a).get(reverse("commitments:attachment", args=[att.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=utf-8''" in disposition and '"1"' not in disposition
    event = AuditEvent.objects.get(action="attachment.download")
    assert event.actor == world.secretary_a and event.object_id == str(att.pk)


def test_image_is_shown_inline(world, pledge, as_user):
    att = record(pledge, world.staff_a, files=[png_upload("a.png")]).attachments.get()
    response = as_user(world.member_user_a).get(reverse("commitments:attachment", args=[att.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")


def test_another_organisations_download_is_404(world, pledge, as_user):
    att = record(pledge, world.staff_a, is_public=True, files=[png_upload()]).attachments.get()
    for user in (world.secretary_b, world.outsider):
        assert as_user(user).get(reverse("commitments:attachment", args=[att.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action="attachment.download").exists()


def test_public_download_only_for_public_entries(world, pledge, client):
    public = record(pledge, world.staff_a, is_public=True, files=[png_upload()]).attachments.get()
    internal = record(pledge, world.staff_a, files=[png_upload()]).attachments.get()
    response = client.get(reverse("commitments:public_attachment", args=[public.pk]))
    assert response.status_code == 200 and response["X-Content-Type-Options"] == "nosniff"
    assert AuditEvent.objects.get(action="attachment.download").actor is None
    assert client.get(reverse("commitments:public_attachment", args=[internal.pk])).status_code == 404
    assert client.get(reverse("commitments:public_attachment", args=[999999])).status_code == 404
    # The internal URL still asks anonymous visitors to log in.
    assert client.get(reverse("commitments:attachment", args=[public.pk])).status_code == 302


def test_missing_file_on_disk_is_404(world, pledge, as_user):
    att = record(pledge, world.staff_a, files=[png_upload()]).attachments.get()
    (Path(settings.MEDIA_ROOT) / att.path).unlink()
    assert as_user(world.staff_a).get(reverse("commitments:attachment", args=[att.pk])).status_code == 404


# --- pages -------------------------------------------------------------------------------------

def test_public_timeline_shows_only_public_entries(world, pledge, client):
    record(pledge, world.staff_a, is_public=True, done="公开的记录", files=[png_upload("公开照片.png")])
    record(pledge, world.staff_a, done="内部的记录", files=[png_upload("内部照片.png")])
    page = client.get(reverse("commitments:public_progress", args=[pledge.pk])).content.decode()
    assert "公开的记录" in page and "公开照片.png" in page
    assert "内部的记录" not in page and "内部照片.png" not in page and "一支部组织委员" not in page
    assert reverse("commitments:public_progress", args=[pledge.pk]) in client.get(
        reverse("portal:public_commitment", args=[pledge.pk])).content.decode()


def test_public_timeline_of_unpublished_commitment_is_404(world, client):
    c = approved(world, member=world.member_a)
    assert client.get(reverse("commitments:public_progress", args=[c.pk])).status_code == 404


def test_record_view_success(world, pledge, as_user):
    client = as_user(world.staff_a)
    url = reverse("commitments:progress_record", args=[pledge.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.content.decode()
    response = client.post(url, {"item": item_ids(pledge)[1], "happened_on": "2010年11月5日", "done": "组织志愿服务",
                                 "effect": "群众满意", "visibility": "public", "completes_item": "on",
                                 "files": [png_upload(), pdf_upload()]})
    assert response.status_code == 302 and response["Location"] == reverse("commitments:progress", args=[pledge.pk])
    entry = ProgressEntry.objects.get()
    assert entry.is_public and entry.completes_item and entry.attachments.count() == 2
    page = client.get(response["Location"]).content.decode()
    assert "组织志愿服务" in page and "已完成" in page


def test_record_view_shows_file_errors(world, pledge, as_user):
    response = as_user(world.staff_a).post(reverse("commitments:progress_record", args=[pledge.pk]), {
        "item": item_ids(pledge)[0], "happened_on": "2010-11-05", "done": "做了", "visibility": "officers",
        "files": [SimpleUploadedFile("x.png", b"\x89PNG\r\n\x1a\n<html>")]})
    assert response.status_code == 200 and "不是有效的JPEG、PNG图片或PDF文档" in response.content.decode()
    assert not ProgressEntry.objects.exists()


def test_outsider_gets_404(world, pledge, as_user):
    for name in ("commitments:progress", "commitments:progress_record"):
        assert as_user(world.secretary_b).get(reverse(name, args=[pledge.pk])).status_code == 404
    assert as_user(world.outsider).post(reverse("commitments:progress_record", args=[pledge.pk]),
                                        {"done": "x"}).status_code == 404


def test_post_on_get_only_urls_is_405(world, pledge, as_user):
    att = record(pledge, world.staff_a, files=[png_upload()]).attachments.get()
    client = as_user(world.staff_a)
    assert client.post(reverse("commitments:progress", args=[pledge.pk])).status_code == 405
    assert client.post(reverse("commitments:attachment", args=[att.pk])).status_code == 405
    assert client.post(reverse("commitments:public_attachment", args=[att.pk])).status_code == 405


def test_detail_page_links_to_progress(world, pledge, as_user):
    page = as_user(world.staff_a).get(reverse("commitments:detail", args=[pledge.pk])).content.decode()
    assert "践诺记录" in page and reverse("commitments:progress", args=[pledge.pk]) in page


def _page_queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("name,public", [("commitments:progress", False), ("commitments:public_progress", True)])
def test_progress_page_query_count_does_not_grow(world, pledge, as_user, name, public,
                                                 django_assert_max_num_queries):
    client = as_user(world.staff_a)
    url = reverse(name, args=[pledge.pk])
    record(pledge, world.staff_a, is_public=True, files=[png_upload(), pdf_upload()])
    once = _page_queries(client, url)
    for n in range(9):
        record(pledge, world.staff_a, is_public=True, item=item_ids(pledge)[n % 2], files=[png_upload()])
    with django_assert_max_num_queries(once):
        assert client.get(url).status_code == 200
