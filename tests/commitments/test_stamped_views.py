"""The pages of the stamped forms scanned back: upload, the archive list on the commitment and
version pages, one scan's page with its actions, the audited file; and the public page and file."""
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commitments import services
from commitments.models import StampedScan
from orgs.models import AuditEvent
from tests.commitments.evidence import scan_pdf, scan_png, upload
from tests.commitments.publishing import approved, published

pytestmark = pytest.mark.django_db


@pytest.fixture
def pledge(world):
    return published(world, member=world.member_a)


def url(name, pk):
    return reverse(f"commitments:{name}", args=[pk])


def post_upload(client, c, **data):
    payload = {"version": c.public_version_id, "copy": "public", "public_display": "none", "file": scan_png()}
    payload.update(data)
    return client.post(url("stamped_upload", c.pk), payload)


# --- upload ---------------------------------------------------------------------------------------

def test_upload_page_and_success_redirect_to_the_commitment(world, pledge, as_user):
    client = as_user(world.staff_a)
    page = client.get(url("stamped_upload", pledge.pk))
    assert page.status_code == 200
    html = page.content.decode()
    for label in ("本人存", "党组织存", "公示", "与系统生成的公示件并列", "代替系统生成的公示件", "出生年月"):
        assert label in html
    response = post_upload(client, pledge, public_display="beside")
    assert response.status_code == 302 and response["Location"] == url("detail", pledge.pk)
    scan = StampedScan.objects.get()
    assert (scan.copy, scan.public_display, scan.uploaded_by) == ("public", "beside", world.staff_a)
    detail = client.get(response["Location"]).content.decode()
    assert "盖章的承诺书已上传存档。已在公示栏显示。" in detail


def test_an_organisations_form_names_its_copies_as_annex_1(world, as_user):
    c = published(world, organisation=world.branch_a, drafter=world.staff_a)
    html = as_user(world.staff_a).get(url("stamped_upload", c.pk)).content.decode()
    assert "本组织存" in html and "上一级党组织存" in html and "出生年月" not in html


def test_a_bad_file_is_shown_at_the_field_with_the_input_kept(world, pledge, as_user):
    client = as_user(world.staff_a)
    response = post_upload(client, pledge, copy="owner", file=scan_pdf(javascript=True))
    assert response.status_code == 200
    form = response.context["form"]
    assert "含有脚本" in form.errors["file"][0]
    assert form["copy"].value() == "owner"
    assert not StampedScan.objects.exists()


def test_a_display_choice_for_an_archive_copy_is_shown_at_its_field(world, pledge, as_user):
    response = post_upload(as_user(world.staff_a), pledge, copy="reviewer", public_display="instead")
    assert response.context["form"].errors["public_display"] == ["只有“公示”联的扫描件可以在公示栏显示。"]


def test_upload_of_an_unpublished_commitment_is_404(world, as_user):
    c = approved(world, member=world.member_a)
    assert as_user(world.staff_a).get(url("stamped_upload", c.pk)).status_code == 404


@pytest.mark.parametrize("persona", ["outsider", "secretary_b", "member_user_a", "admin"])
def test_upload_is_404_for_everyone_but_the_publishing_officers(world, pledge, as_user, persona):
    client = as_user(getattr(world, persona))
    assert client.get(url("stamped_upload", pledge.pk)).status_code == 404
    assert post_upload(client, pledge).status_code == 404
    assert not StampedScan.objects.exists()


# --- the archive on the commitment and version pages ----------------------------------------------

def test_the_detail_and_version_pages_list_the_scans(world, pledge, as_user):
    upload(pledge, world.staff_a, copy="reviewer", file=scan_pdf("支部存档.pdf", pages=2))
    client = as_user(world.secretary_a)
    for page in (url("detail", pledge.pk), reverse("commitments:version", args=[pledge.pk, 1])):
        html = client.get(page).content.decode()
        assert "盖章承诺书（存档）" in html and "党组织存" in html and "支部存档.pdf" in html
        assert "PDF文档，2页" in html and "一支部组织委员上传于" in html and "上传盖章件" in html


def test_the_owner_member_sees_the_list_without_the_upload_button(world, pledge, as_user):
    upload(pledge, world.staff_a)
    html = as_user(world.member_user_a).get(url("detail", pledge.pk)).content.decode()
    assert "盖章承诺书（存档）" in html and "上传盖章件" not in html


def test_a_system_administrator_sees_neither_the_pledge_nor_its_scans(world, pledge, as_user):
    """Least privilege (三员分立): the scans carry the member's signature and are read only by those
    who print and publish, and the member; a system administrator is not one of them."""
    scan = upload(pledge, world.staff_a)
    client = as_user(world.admin)
    assert client.get(url("detail", pledge.pk)).status_code == 404
    assert client.get(reverse("commitments:stamped_file", args=[scan.pk])).status_code == 404


def test_the_detail_page_reads_the_scans_in_one_query(world, pledge, as_user, django_assert_max_num_queries):
    client = as_user(world.staff_a)
    upload(pledge, world.staff_a)
    client.get(url("detail", pledge.pk))
    with CaptureQueriesContext(connection) as one:
        client.get(url("detail", pledge.pk))
    for _ in range(5):
        upload(pledge, world.secretary_a, copy="owner")
    with django_assert_max_num_queries(len(one)):
        client.get(url("detail", pledge.pk))


# --- one scan's page and actions ---------------------------------------------------------------------

def test_scan_page_shows_the_facts_and_the_managers_forms(world, pledge, as_user):
    scan = upload(pledge, world.staff_a, display="beside")
    html = as_user(world.staff_a).get(url("stamped_scan", scan.pk)).content.decode()
    assert "公示联盖章件" in html and scan.sha256 in html and "公示栏并列显示" in html
    assert url("stamped_display", scan.pk) in html and url("stamped_withdraw", scan.pk) in html


def test_the_owner_member_views_without_actions(world, pledge, as_user):
    scan = upload(pledge, world.staff_a)
    client = as_user(world.member_user_a)
    html = client.get(url("stamped_scan", scan.pk)).content.decode()
    assert "公示联盖章件" in html and url("stamped_withdraw", scan.pk) not in html
    response = client.get(url("stamped_file", scan.pk))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Cache-Control"] == "private, no-store"
    assert AuditEvent.objects.filter(action="stamped_scan.download", actor=world.member_user_a).count() == 1


def test_a_pdf_is_downloaded_not_shown(world, pledge, as_user):
    scan = upload(pledge, world.staff_a, file=scan_pdf("盖章件.pdf"))
    response = as_user(world.staff_a).get(url("stamped_file", scan.pk))
    assert response["Content-Type"] == "application/pdf" and response["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize("persona", ["outsider", "secretary_b", "admin", "auditor"])
def test_outsider_and_sibling_branch_get_404_everywhere(world, pledge, as_user, persona):
    scan = upload(pledge, world.staff_a, display="beside")
    client = as_user(getattr(world, persona))
    for name in ("stamped_scan", "stamped_file"):
        assert client.get(url(name, scan.pk)).status_code == 404
    assert client.post(url("stamped_display", scan.pk), {"revision": 1, "public_display": "none"}).status_code == 404
    assert client.post(url("stamped_withdraw", scan.pk), {"revision": 1, "reason": "x"}).status_code == 404
    scan.refresh_from_db()
    assert scan.public_display == "beside" and not scan.is_withdrawn
    assert not AuditEvent.objects.filter(action__in=["stamped_scan.download", "stamped_scan.withdraw"]).exists()


def test_a_missing_scan_is_404(world, as_user):
    assert as_user(world.staff_a).get(url("stamped_scan", 999999)).status_code == 404


def test_get_on_post_only_urls_is_405(world, pledge, as_user):
    scan = upload(pledge, world.staff_a)
    client = as_user(world.staff_a)
    assert client.get(url("stamped_display", scan.pk)).status_code == 405
    assert client.get(url("stamped_withdraw", scan.pk)).status_code == 405


def test_display_and_withdraw_through_the_page(world, pledge, as_user):
    scan = upload(pledge, world.staff_a)
    client = as_user(world.secretary_a)
    response = client.post(url("stamped_display", scan.pk), {"revision": 1, "public_display": "instead"})
    assert response.status_code == 302 and response["Location"] == url("stamped_scan", scan.pk)
    scan.refresh_from_db()
    assert scan.public_display == "instead"
    response = client.post(url("stamped_withdraw", scan.pk), {"revision": scan.revision, "reason": "扫描不清晰"})
    assert response.status_code == 302
    scan.refresh_from_db()
    assert scan.is_withdrawn and scan.public_display == "none"
    html = client.get(url("stamped_scan", scan.pk)).content.decode()
    assert "扫描件已撤回，记录仍然保留。" in html and "已撤回：" in html and "扫描不清晰" in html
    assert url("stamped_withdraw", scan.pk) not in html


def test_withdraw_without_a_reason_shows_the_error_at_the_field(world, pledge, as_user):
    scan = upload(pledge, world.staff_a)
    response = as_user(world.staff_a).post(url("stamped_withdraw", scan.pk), {"revision": 1, "reason": ""})
    assert response.status_code == 200
    assert response.context["withdraw_form"].errors["reason"] == ["请填写撤回原因。"]
    assert 'aria-invalid="true"' in response.content.decode()


def test_a_stale_form_gets_a_clear_message(world, pledge, as_user):
    scan = upload(pledge, world.staff_a)
    services.stamped_scan_withdraw(actor=world.secretary_a, scan=scan, revision=1, reason="重复上传")
    client = as_user(world.staff_a)
    response = client.post(url("stamped_display", scan.pk), {"revision": 1, "public_display": "beside"}, follow=True)
    assert "该盖章件已被他人撤回或修改，请刷新页面后重试。" in response.content.decode()
    response = client.post(url("stamped_withdraw", scan.pk), {"revision": 1, "reason": "x"}, follow=True)
    assert "该盖章件已被他人撤回，请刷新页面查看。" in response.content.decode()


# --- the public page and file ---------------------------------------------------------------------------

def public(c):
    return reverse("portal:public_commitment", args=[c.pk])


def test_only_a_chosen_scan_appears_on_the_public_page(world, pledge):
    hidden = upload(pledge, world.staff_a)
    archive = upload(pledge, world.staff_a, copy="owner")
    html = Client().get(public(pledge)).content.decode()
    assert "签字盖章的公示件" not in html
    for scan in (hidden, archive):
        assert url("public_stamped", scan.pk) not in html
        assert Client().get(url("public_stamped", scan.pk)).status_code == 404


def test_a_scan_beside_the_text(world, pledge):
    scan = upload(pledge, world.staff_a, display="beside")
    html = Client().get(public(pledge)).content.decode()
    assert "签字盖章的公示件" in html and "承诺事项" in html and "<details" not in html
    assert f'src="{url("public_stamped", scan.pk)}"' in html and 'width="60" height="85"' in html
    assert "李娜签字盖章的《党员公开承诺书》公示联（第1版）" in html


def test_a_scan_instead_of_the_text_keeps_the_text_folded_below(world, pledge):
    upload(pledge, world.staff_a, display="instead")
    html = Client().get(public(pledge)).content.decode()
    assert "党员公开承诺书（公示件）" in html and "<details" in html
    assert html.index("公示件）") < html.index("<details") < html.index("承诺事项1")


def test_a_pdf_scan_is_a_link(world, pledge):
    scan = upload(pledge, world.staff_a, display="beside", file=scan_pdf(pages=2))
    html = Client().get(public(pledge)).content.decode()
    assert f'<a href="{url("public_stamped", scan.pk)}">下载签字盖章的公示件（PDF，2页' in html
    response = Client().get(url("public_stamped", scan.pk))
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment")


def test_the_public_file_is_the_clean_display_copy_revalidated_each_time(world, pledge):
    scan = upload(pledge, world.staff_a, display="beside")
    client = Client()
    response = client.get(url("public_stamped", scan.pk))
    body = b"".join(response.streaming_content)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "public, max-age=0" and response["ETag"]
    assert body == (Path(settings.MEDIA_ROOT) / scan.display_path).read_bytes()
    again = client.get(url("public_stamped", scan.pk), HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304
    assert not AuditEvent.objects.filter(action="stamped_scan.download").exists()


def test_the_public_file_is_404_once_withdrawn_or_of_a_superseded_version(world, pledge):
    scan = upload(pledge, world.staff_a, display="beside")
    assert Client().get(url("public_stamped", scan.pk)).status_code == 200
    services.stamped_scan_withdraw(actor=world.staff_a, scan=scan, revision=scan.revision, reason="误传")
    assert Client().get(url("public_stamped", scan.pk)).status_code == 404
    assert "签字盖章的公示件" not in Client().get(public(pledge)).content.decode()


def test_an_older_version_of_the_public_page_shows_no_scan(world, pledge):
    upload(pledge, world.staff_a, display="beside")
    html = Client().get(public(pledge), {"version": "1"}).content.decode()
    assert "签字盖章的公示件" in html  # version 1 is still the public one
    assert Client().get(public(pledge), {"version": "2"}).status_code == 404


def test_the_public_page_reads_the_scans_in_one_query(world, pledge, django_assert_max_num_queries):
    upload(pledge, world.staff_a, display="beside")
    with CaptureQueriesContext(connection) as one:
        Client().get(public(pledge))
    for _ in range(5):
        upload(pledge, world.staff_a, display="beside")
    with django_assert_max_num_queries(len(one)):
        html = Client().get(public(pledge)).content.decode()
    assert html.count("第6张，共6张") == 1


# --- the public page cache ---------------------------------------------------------------------------

@pytest.fixture
def cache_on(settings):
    settings.PUBLIC_PAGE_CACHE = True
    cache.clear()
    yield
    cache.clear()


def test_every_display_change_shows_on_the_cached_public_page(world, pledge, cache_on,
                                                              django_capture_on_commit_callbacks):
    def page():
        return Client().get(public(pledge)).content.decode()

    assert "签字盖章的公示件" not in page()
    with django_capture_on_commit_callbacks(execute=True):
        scan = upload(pledge, world.staff_a, display="beside")
    assert "签字盖章的公示件" in page()
    with django_capture_on_commit_callbacks(execute=True):
        scan = services.stamped_scan_set_display(actor=world.staff_a, scan=scan, revision=scan.revision,
                                                 display="instead")
    assert "党员公开承诺书（公示件）" in page()
    with django_capture_on_commit_callbacks(execute=True):
        services.stamped_scan_withdraw(actor=world.staff_a, scan=scan, revision=scan.revision, reason="误传")
    assert "公示件" not in page()


def test_an_archive_upload_leaves_the_cached_pages_alone(world, pledge, cache_on, django_capture_on_commit_callbacks):
    Client().get(public(pledge))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        upload(pledge, world.staff_a, copy="owner")
    assert callbacks == []
