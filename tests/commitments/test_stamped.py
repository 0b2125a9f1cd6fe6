"""亮诺 after printing: the signed and stamped forms scanned back, kept as the archive copy, withdrawn
with a reason, and (the 公示 copy of the public version only) shown on the noticeboard."""
import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone

from commitments import selectors_stamped, services
from commitments.models import ScanDisplay, StampedScan
from core.errors import Conflict
from orgs.models import AuditEvent
from reviews.services import review_decide
from tests.commitments.evidence import image_bytes, published_earlier, scan_pdf, scan_png, upload
from tests.commitments.publishing import ALL_TICKED, approved, backdate, published
from tests.conftest import make_commitment

pytestmark = pytest.mark.django_db


@pytest.fixture
def pledge(world):
    """member_a's pledge, published by branch A's staff."""
    return published(world, member=world.member_a)


@pytest.fixture
def org_commitment(world):
    """Branch A's own commitment, approved by the committee and published by branch A's staff."""
    return published(world, organisation=world.branch_a, drafter=world.staff_a)


def stored() -> list[Path]:
    return sorted((Path(settings.MEDIA_ROOT) / "stamped").glob("*"))


def republished(world, c):
    """Revise, resubmit, approve and publish again: version 2 becomes the public one."""
    c = services.commitment_revise(actor=world.staff_a, commitment=c, version=c.version)
    services.commitment_submit(actor=world.member_user_a, commitment=c, version=c.version)
    c.refresh_from_db()
    review_decide(actor=world.secretary_a, commitment=c, version=c.version, decision="approve", criteria=ALL_TICKED,
                  opinion="同意")
    c = backdate(c, submitted=timezone.make_aware(datetime.datetime(2010, 11, 1)),
                 approved=timezone.make_aware(datetime.datetime(2010, 11, 3)))
    services.commitment_publish(actor=world.staff_a, commitment=c, version=c.version,
                                published_on=datetime.date(2010, 11, 5), channels=["noticeboard"])
    c.refresh_from_db()
    return c


# --- upload -------------------------------------------------------------------------------------

def test_upload_keeps_the_file_under_a_generated_name_with_a_clean_display_copy_and_audits(world, pledge):
    scan = upload(pledge, world.staff_a, copy="public", display="beside", file=scan_png("李娜 公示联.png"))
    assert (scan.version, scan.copy, scan.public_display, scan.uploaded_by) == (
        pledge.public_version, "public", "beside", world.staff_a)
    assert (scan.content_type, scan.original_name, scan.pages, scan.width, scan.height) == (
        "image/png", "李娜 公示联.png", None, 60, 85)
    assert scan.path.startswith("stamped/") and scan.display_path.startswith("stamped/")
    assert "李娜" not in scan.path and scan.path != scan.display_path
    assert (Path(settings.MEDIA_ROOT) / scan.path).read_bytes()[:4] == b"\x89PNG"
    assert len(stored()) == 2
    event = AuditEvent.objects.get(action="stamped_scan.upload")
    assert event.actor == world.staff_a and event.organisation == world.branch_a
    assert event.object_id == str(scan.pk)
    assert event.detail.items() >= {"version": 1, "copy": "public", "display": "beside", "sha256": scan.sha256}.items()


def test_a_pdf_scan_records_its_pages_and_has_no_display_copy(world, org_commitment):
    scan = upload(org_commitment, world.secretary_a, copy="reviewer", file=scan_pdf(pages=2))
    assert (scan.content_type, scan.pages, scan.display_path, scan.width) == ("application/pdf", 2, "", None)
    assert scan.copy_label == "上一级党组织存"


def test_copy_labels_follow_the_annex(world, pledge, org_commitment):
    labels = {(c.member_id is not None, copy): upload(c, world.staff_a, copy=copy).copy_label
              for c in (pledge, org_commitment) for copy in ("owner", "reviewer", "public")}
    assert labels == {(True, "owner"): "本人存", (True, "reviewer"): "党组织存", (True, "public"): "公示",
                      (False, "owner"): "本组织存", (False, "reviewer"): "上一级党组织存", (False, "public"): "公示"}


@pytest.mark.parametrize("actor", ["staff_a", "secretary_a", "committee_secretary", "reviewer"])
def test_the_officers_who_may_publish_upload(world, pledge, actor):
    assert upload(pledge, getattr(world, actor)).uploaded_by == getattr(world, actor)


@pytest.mark.parametrize("actor", ["secretary_b", "member_user_a", "outsider", "admin", "auditor"])
def test_everyone_else_is_refused(world, pledge, actor):
    with pytest.raises(PermissionDenied):
        upload(pledge, getattr(world, actor))
    assert not StampedScan.objects.exists() and not stored()
    assert not AuditEvent.objects.filter(action="stamped_scan.upload").exists()


def test_an_approved_but_unpublished_commitment_takes_no_scan(world):
    c = approved(world, member=world.member_a)
    with pytest.raises(Conflict, match="尚未公开"):
        services.stamped_scan_upload(actor=world.staff_a, commitment=c, version_id=c.versions.get().pk,
                                     copy="public", upload=scan_png())
    assert not StampedScan.objects.exists() and not stored()


def test_a_draft_takes_no_scan(world):
    c = make_commitment(world.campaign, member=world.member_a, actor=world.staff_a)
    with pytest.raises(Conflict):
        services.stamped_scan_upload(actor=world.staff_a, commitment=c, version_id=1, copy="public", upload=scan_png())


def test_a_version_that_was_never_published_is_refused(world, pledge):
    c = services.commitment_revise(actor=world.staff_a, commitment=pledge, version=pledge.version)
    v2 = services.commitment_submit(actor=world.member_user_a, commitment=c, version=c.version)
    with pytest.raises(ValidationError) as exc:
        upload(c, world.staff_a, version=v2)
    assert exc.value.message_dict == {"version": ["请选择已公开的版本。"]}


def test_an_earlier_published_version_takes_an_archive_scan_but_not_public_display(world, pledge):
    v1 = pledge.public_version
    c = republished(world, pledge)
    assert upload(c, world.staff_a, version=v1, copy="public").version == v1
    with pytest.raises(ValidationError) as exc:
        upload(c, world.staff_a, version=v1, copy="public", display="beside")
    assert exc.value.message_dict == {"public_display": ["只有现行公开版本的公示联可以在公示栏显示。"]}


def test_only_the_public_copy_may_be_displayed(world, pledge):
    with pytest.raises(ValidationError) as exc:
        upload(pledge, world.staff_a, copy="owner", display="instead")
    assert exc.value.message_dict == {"public_display": ["只有“公示”联的扫描件可以在公示栏显示。"]}


def test_field_errors_are_keyed_and_in_chinese(world, pledge):
    with pytest.raises(ValidationError) as exc:
        services.stamped_scan_upload(actor=world.staff_a, commitment=pledge, version_id="x", copy="fourth",
                                     upload=None, public_display="sometimes")
    assert exc.value.message_dict == {"version": ["请选择已公开的版本。"], "copy": ["请选择扫描的是哪一联。"],
                                      "public_display": ["请选择是否在公示栏显示。"],
                                      "file": ["请选择要上传的扫描件或照片。"]}


# --- bad files ----------------------------------------------------------------------------------

def _refused(world, c, file) -> str:
    with pytest.raises(ValidationError) as exc:
        upload(c, world.staff_a, file=file)
    assert not StampedScan.objects.exists() and not stored()
    return exc.value.message_dict["file"][0]


def test_a_png_renamed_pdf_is_taken_for_what_it_is_never_served_as_a_pdf(world, pledge):
    """Decision (as for evidence): the content decides. A photo named .pdf is kept and shown as a PNG."""
    scan = upload(pledge, world.staff_a, file=SimpleUploadedFile("承诺书.pdf", image_bytes(), "application/pdf"))
    assert (scan.content_type, scan.original_name, scan.pages) == ("image/png", "承诺书.png", None)
    assert scan.path.endswith(".png")


def test_something_else_renamed_pdf_is_refused(world, pledge):
    html = b"<html><script>alert(1)</script></html>"
    assert "不是有效的JPEG、PNG图片或PDF文档" in _refused(world, pledge, SimpleUploadedFile("承诺书.pdf", html))


def test_a_pdf_with_javascript_is_refused(world, pledge):
    assert "含有脚本、嵌入文件或自动执行的动作" in _refused(world, pledge, scan_pdf(javascript=True))


def test_a_pdf_with_an_embedded_file_is_refused(world, pledge):
    assert "嵌入文件" in _refused(world, pledge, scan_pdf(attachment=True))


def test_an_encrypted_pdf_is_refused_with_a_clear_message(world, pledge):
    assert "加密或设有密码" in _refused(world, pledge, scan_pdf(password="1234"))


def test_a_pdf_over_the_page_limit_is_refused(world, pledge, settings):
    settings.STAMPED_SCAN_MAX_PAGES = 2
    assert _refused(world, pledge, scan_pdf(pages=3)) == "“盖章承诺书”有3页，超过2页的上限。"


def test_an_oversize_file_is_refused(world, pledge, settings):
    settings.STAMPED_SCAN_MAX_BYTES = 1024 * 1024
    big = SimpleUploadedFile("大图.png", image_bytes(size=(1200, 1200)) + b"\0" * (1024 * 1024))
    assert _refused(world, pledge, big) == "“大图”超过1MB，请压缩后再上传。"


def test_a_truncated_image_is_refused(world, pledge):
    data = image_bytes(size=(200, 300))
    assert "不是有效的" in _refused(world, pledge, SimpleUploadedFile("照片.png", data[:200] + data[-12:]))


def test_files_are_removed_when_the_transaction_fails(world, pledge, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("audit down")

    monkeypatch.setattr("orgs.audit.record", boom)
    with pytest.raises(RuntimeError):
        upload(pledge, world.staff_a, display="beside")
    assert not StampedScan.objects.exists() and not stored()


# --- public display ------------------------------------------------------------------------------

def test_set_display_bumps_the_revision_and_audits(world, pledge):
    scan = upload(pledge, world.staff_a)
    scan = services.stamped_scan_set_display(actor=world.secretary_a, scan=scan, revision=scan.revision,
                                             display="instead")
    assert (scan.public_display, scan.revision) == ("instead", 2)
    event = AuditEvent.objects.get(action="stamped_scan.display")
    assert event.actor == world.secretary_a and event.detail["from"] == "none" and event.detail["to"] == "instead"


def test_displayed_scans_of_one_version_share_one_way(world, pledge):
    """Two photos of one two-page form: choosing 代替 for one moves the other too."""
    first = upload(pledge, world.staff_a, display="beside")
    second = upload(pledge, world.staff_a, display="beside")
    services.stamped_scan_set_display(actor=world.staff_a, scan=second, revision=second.revision, display="instead")
    first.refresh_from_db()
    assert (first.public_display, first.revision) == ("instead", 2)
    assert AuditEvent.objects.get(action="stamped_scan.display").detail["aligned"] == [first.pk]


def test_a_stale_display_form_loses(world, pledge):
    scan = upload(pledge, world.staff_a)
    services.stamped_scan_set_display(actor=world.staff_a, scan=scan, revision=1, display="beside")
    with pytest.raises(Conflict, match="该盖章件已被他人撤回或修改"):
        services.stamped_scan_set_display(actor=world.secretary_a, scan=scan, revision=1, display="none")
    scan.refresh_from_db()
    assert scan.public_display == "beside"


def test_display_is_refused_to_other_officers_and_for_archive_copies(world, pledge):
    scan = upload(pledge, world.staff_a, copy="reviewer")
    with pytest.raises(PermissionDenied):
        services.stamped_scan_set_display(actor=world.secretary_b, scan=scan, revision=1, display="beside")
    with pytest.raises(PermissionDenied):
        services.stamped_scan_set_display(actor=world.member_user_a, scan=scan, revision=1, display="beside")
    with pytest.raises(ValidationError):
        services.stamped_scan_set_display(actor=world.staff_a, scan=scan, revision=1, display="beside")
    assert not AuditEvent.objects.filter(action="stamped_scan.display").exists()


# --- withdraw ------------------------------------------------------------------------------------

def test_withdraw_keeps_the_row_and_the_file_takes_it_off_the_board_and_audits(world, pledge):
    scan = upload(pledge, world.staff_a, display="beside")
    scan = services.stamped_scan_withdraw(actor=world.secretary_a, scan=scan, revision=scan.revision,
                                          reason="  误传，已重新上传  ")
    assert scan.is_withdrawn and scan.withdrawn_by == world.secretary_a and scan.withdraw_reason == "误传，已重新上传"
    assert scan.public_display == ScanDisplay.NONE
    assert StampedScan.objects.filter(pk=scan.pk).exists() and len(stored()) == 2
    event = AuditEvent.objects.get(action="stamped_scan.withdraw")
    assert event.detail["reason"] == "误传，已重新上传" and event.detail["was_displayed"] == "beside"
    assert selectors_stamped.public_stamped_scans(pledge) == []


def test_withdraw_needs_a_reason(world, pledge):
    scan = upload(pledge, world.staff_a)
    with pytest.raises(ValidationError) as exc:
        services.stamped_scan_withdraw(actor=world.staff_a, scan=scan, revision=1, reason="  ")
    assert exc.value.message_dict == {"reason": ["请填写撤回原因。"]}


def test_a_second_withdraw_gets_a_clear_message(world, pledge):
    scan = upload(pledge, world.staff_a)
    services.stamped_scan_withdraw(actor=world.staff_a, scan=scan, revision=1, reason="扫描不清")
    with pytest.raises(Conflict, match="该盖章件已被他人撤回"):
        services.stamped_scan_withdraw(actor=world.secretary_a, scan=scan, revision=1, reason="重复")
    with pytest.raises(Conflict):
        services.stamped_scan_set_display(actor=world.secretary_a, scan=scan, revision=1, display="beside")


def test_withdraw_is_refused_to_the_wrong_actor(world, pledge):
    scan = upload(pledge, world.staff_a)
    for actor in (world.secretary_b, world.member_user_a, world.outsider):
        with pytest.raises(PermissionDenied):
            services.stamped_scan_withdraw(actor=actor, scan=scan, revision=1, reason="x")
    scan.refresh_from_db()
    assert not scan.is_withdrawn


# --- download ------------------------------------------------------------------------------------

def test_download_is_audited_and_open_to_the_owner_member(world, pledge):
    scan = upload(pledge, world.staff_a)
    for actor in (world.staff_a, world.member_user_a):
        with services.stamped_scan_download(actor=actor, scan=scan) as handle:
            assert handle.read(4) == b"\x89PNG"
    assert AuditEvent.objects.filter(action="stamped_scan.download").count() == 2
    with pytest.raises(PermissionDenied):
        services.stamped_scan_download(actor=world.secretary_b, scan=scan)


# --- what the noticeboard shows ------------------------------------------------------------------

def test_the_board_shows_only_chosen_public_copies_of_the_public_version(world, pledge):
    shown = upload(pledge, world.staff_a, display="beside")
    upload(pledge, world.staff_a)  # not chosen
    upload(pledge, world.staff_a, copy="owner")  # another copy
    withdrawn = upload(pledge, world.staff_a, display="beside")
    services.stamped_scan_withdraw(actor=world.staff_a, scan=withdrawn, revision=withdrawn.revision, reason="重复")
    assert [s.pk for s in selectors_stamped.public_stamped_scans(pledge)] == [shown.pk]
    c = republished(world, pledge)
    # Version 2 is public now: version 1's scan leaves the board with its version.
    assert selectors_stamped.public_stamped_scans(c) == []
    with pytest.raises(Http404):
        selectors_stamped.public_stamped_scan_get(shown.pk)


def test_an_earlier_campaigns_pledge_takes_scans_too(world):
    c = published_earlier(world, world.member_a)
    assert upload(c, world.staff_a, copy="owner").version == c.public_version
