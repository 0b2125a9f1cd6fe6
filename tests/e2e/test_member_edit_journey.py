"""A branch secretary logs in, finds a member, corrects the member's post and sees the change."""
import pytest
from playwright.sync_api import expect

from orgs.models import AuditEvent, Member
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in, page_width, shot

pytestmark = pytest.mark.e2e


def test_secretary_finds_member_and_edits_post(world, live_server, page):
    base = live_server.url
    log_in(page, base, "secretary_a", PASSWORD)
    shot(page, "foundation-01-home")
    expect(page.get_by_role("heading", name="我的组织与角色")).to_be_visible()

    page.get_by_role("link", name="党员名册").first.click()
    page.get_by_label("搜索").fill("李娜")
    page.get_by_role("button", name="筛选").click()
    rows = page.locator("table.member-table tbody tr")
    expect(rows).to_have_count(1)
    shot(page, "foundation-02-member-search")
    rows.first.get_by_role("link", name="李娜").click()

    page.get_by_role("link", name="编辑信息").click()
    post = page.get_by_label("职务或职业")
    assert post.input_value() == "科员"
    post.fill("党支部宣传委员")
    page.get_by_role("button", name="保存").click()

    page.wait_for_url(f"{base}/members/{world.member_a.pk}/")
    expect(page.get_by_text("“李娜”的信息已保存。")).to_be_visible()
    expect(page.locator("dd", has_text="党支部宣传委员")).to_be_visible()
    shot(page, "foundation-03-member-saved")
    assert Member.objects.get(pk=world.member_a.pk).post == "党支部宣传委员"
    assert AuditEvent.objects.filter(action="member.update", actor=world.secretary_a).exists()


def test_sibling_member_is_not_found_in_browser(world, live_server, page):
    log_in(page, live_server.url, "secretary_a", PASSWORD)
    response = page.goto(f"{live_server.url}/members/{world.member_b.pk}/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="页面不存在或您无权查看")).to_be_visible()


def test_member_list_on_a_phone(world, live_server, phone_page):
    log_in(phone_page, live_server.url, "dw_secretary", PASSWORD)
    phone_page.goto(live_server.url + "/members/")
    expect(phone_page.locator("table.member-table")).to_be_visible()
    # No horizontal scrolling of the whole page on a 375-pixel screen.
    width = page_width(phone_page)
    assert width <= 375
    shot(phone_page, "foundation-04-member-list-phone")
