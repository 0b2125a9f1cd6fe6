"""亮诺 in the browser: staff print the triplicate and publish; a visitor on a phone finds the
pledge on the noticeboard without logging in."""
import subprocess

import pytest
from playwright.sync_api import expect

from commitments.models import CommitmentStatus
from tests.commitments.publishing import approved
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in, page_width, shot

pytestmark = pytest.mark.e2e


def pdf_text(data: bytes) -> str:
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
    return "".join(out.stdout.decode().split())


def test_staff_print_and_publish_then_public_finds_it(world, live_server, page, phone_page):
    c = approved(world, member=world.member_a2)  # 王堃, a rare character in the name
    base = live_server.url
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, base, "staff_a", PASSWORD)
    page.goto(f"{base}/commitments/{c.pk}/")
    link = page.get_by_role("link", name="打印承诺书（一式三份）")
    response = page.request.get(base + link.get_attribute("href"))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.body())
    assert "党员公开承诺书" in text and "王堃" in text
    for label in ("本人存", "党组织存", "公示"):
        assert label in text

    page.get_by_label("党务政务公开栏").check()
    shot(page, "publish-01-detail")
    page.get_by_role("button", name="登记公开").click()
    expect(page.get_by_text("已公开亮诺").first).to_be_visible()
    c.refresh_from_db()
    assert c.status == CommitmentStatus.PUBLISHED

    phone_page.goto(base + "/public/")
    shot(phone_page, "publish-02-noticeboard-phone")
    phone_page.get_by_label("按党组织名称或党员姓名查找").fill("王堃")
    phone_page.get_by_role("button", name="查找").click()
    phone_page.get_by_role("link", name="王堃的公开承诺").click()
    expect(phone_page.get_by_role("heading", name="王堃的党员公开承诺")).to_be_visible()
    expect(phone_page.get_by_text("承诺事项1：为群众办实事")).to_be_visible()
    assert page_width(phone_page) <= 375
    shot(phone_page, "publish-03-pledge-phone")


def test_published_at_a_meeting_only_is_off_the_noticeboard_until_internet_is_added(world, live_server, page,
                                                                                   phone_page):
    """四（三）: the noticeboard is the 网络 channel; the branch adds 网络 later."""
    c = approved(world, member=world.member_a2)
    base = live_server.url
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, base, "staff_a", PASSWORD)
    page.goto(f"{base}/commitments/{c.pk}/")
    page.get_by_label("会议").check()
    page.get_by_label("党务政务公开栏").uncheck()
    page.get_by_label("网络").uncheck()
    page.get_by_role("button", name="登记公开").click()
    expect(page.get_by_text("不含“网络”，公示栏（网上）不显示该承诺")).to_be_visible()
    shot(page, "publish-04-meeting-only")

    phone_page.goto(base + "/public/")
    phone_page.get_by_label("按党组织名称或党员姓名查找").fill("王堃")
    phone_page.get_by_role("button", name="查找").click()
    expect(phone_page.get_by_role("link", name="王堃的公开承诺")).to_have_count(0)
    assert phone_page.goto(f"{base}/public/commitments/{c.pk}/").status == 404

    page.get_by_role("checkbox", name="网络").check()
    page.get_by_role("button", name="增加公开方式").click()
    expect(page.get_by_text("已增加公开方式：网络").first).to_be_visible()
    expect(page.get_by_text("第1版增加公开方式：网络")).to_be_visible()
    shot(page, "publish-05-internet-added")

    phone_page.goto(base + "/public/")
    phone_page.get_by_label("按党组织名称或党员姓名查找").fill("王堃")
    phone_page.get_by_role("button", name="查找").click()
    phone_page.get_by_role("link", name="王堃的公开承诺").click()
    expect(phone_page.get_by_role("heading", name="王堃的党员公开承诺")).to_be_visible()
