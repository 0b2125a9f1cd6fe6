"""践诺 and 评诺 in the browser: a member records progress with a photo, an anonymous visitor
rates the pledge on a phone, the branch secretary assesses it as 未兑现 and orders
rectification, the member responds, the secretary verifies and closes the order."""
import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from commitments.models import ProgressEntry
from evaluations.models import Assessment, Ballot, RectificationOrder, RectificationStatus
from tests.commitments.evidence import image_bytes
from tests.commitments.publishing import published
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in, page_width, shot

pytestmark = pytest.mark.e2e


def _desktop(browser):
    page = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    page.set_default_timeout(15000)
    page.on("dialog", lambda dialog: dialog.accept())
    return page


def test_progress_rating_assessment_and_rectification(world, live_server, browser, phone_page, tmp_path):
    today = timezone.localdate()
    campaign = world.campaign
    campaign.evaluation_opens = today - datetime.timedelta(days=3)
    campaign.evaluation_deadline = today + datetime.timedelta(days=30)
    campaign.save()
    c = published(world, member=world.member_a)
    base = live_server.url
    photo = tmp_path / "走访现场.jpg"
    photo.write_bytes(image_bytes("JPEG", (64, 48)))

    # 践诺: the member records an entry on the first item, public, with a photo.
    member = _desktop(browser)
    log_in(member, base, "member_a", PASSWORD)
    member.goto(f"{base}/commitments/{c.pk}/progress/new/")
    first_item = c.public_version.snapshot["items"][0]["id"]
    member.get_by_label("承诺事项").select_option(str(first_item))
    member.locator("#id_happened_on").fill(today.isoformat())
    member.get_by_label("做了什么").fill("走访社区困难群众3户，帮助办理医保报销。")
    member.get_by_label("实际效果").fill("解决实际困难2件，群众写来感谢信。")
    member.get_by_label("公开", exact=True).check()
    member.get_by_label("佐证材料").set_input_files(str(photo))
    shot(member, "evaluation-01-progress-form")
    member.get_by_role("button", name="登记").click()
    expect(member.get_by_text("践诺记录已登记").first).to_be_visible()
    entry = ProgressEntry.objects.get(commitment=c)
    assert entry.is_public and entry.attachments.get().content_type == "image/jpeg"
    shot(member, "evaluation-02-progress-page")

    # 群众评议: an anonymous visitor on a phone sees the timeline and rates the pledge.
    phone_page.goto(f"{base}/public/commitments/{c.pk}/")
    expect(phone_page.get_by_text("走访社区困难群众3户").first).to_be_visible()
    phone_page.get_by_text("基本满意", exact=True).click()
    phone_page.get_by_label("意见（选填，不超过200字）").fill("希望帮扶事项进度能及时公开。")
    shot(phone_page, "evaluation-03-rate-phone")
    phone_page.get_by_role("button", name="提交评议").click()
    expect(phone_page.get_by_text("感谢您参与群众评议").first).to_be_visible()
    assert page_width(phone_page) <= 375
    assert Ballot.objects.filter(commitment=c, rating="basic").count() == 1
    # While the window is open no tally is shown, and a second try does not count.
    assert "1 票" not in phone_page.content()
    shot(phone_page, "evaluation-04-rated-phone")

    # 组织考核: the branch secretary assesses it as 未兑现 and orders rectification.
    secretary = _desktop(browser)
    log_in(secretary, base, "secretary_a", PASSWORD)
    secretary.goto(f"{base}/evaluations/commitments/{c.pk}/")
    secretary.get_by_label("未兑现", exact=True).check()
    secretary.get_by_label("等次").select_option(label="较差")
    secretary.get_by_label("考核意见").fill("三项承诺仅完成一项，为群众办实事的承诺逾期未完成。")
    secretary.get_by_role("button", name="保存考核结果").click()
    assert Assessment.objects.get(commitment=c).result == "unfulfilled"
    secretary.get_by_label("整改原因").fill("组织考核结果为“未兑现”，承诺事项逾期未完成。")
    secretary.get_by_label("整改要求").fill("一个月内完成剩余承诺事项，并报送走访台账。")
    secretary.get_by_label("整改期限").fill((today + datetime.timedelta(days=30)).isoformat())
    shot(secretary, "evaluation-05-assessed")
    secretary.get_by_role("button", name="下达整改通知").click()
    order = RectificationOrder.objects.get(commitment=c)
    assert order.status == RectificationStatus.OPEN and order.issued_by == world.secretary_a

    # The member sees the order in the to-do area and responds.
    member.goto(base + "/")
    member.get_by_role("link", name="1 条待整改").click()
    shot(member, "evaluation-06-rectifications")
    member.goto(f"{base}/evaluations/commitments/{c.pk}/")
    member.get_by_label("整改情况").fill("已完成剩余两项承诺：帮扶困难家庭2户，走访台账已报支部。")
    member.get_by_role("button", name="提交整改情况").click()
    order.refresh_from_db()
    assert order.status == RectificationStatus.RESPONDED

    # The secretary verifies and closes it.
    secretary.goto(base + "/")
    secretary.get_by_role("link", name="1 条整改待验收").click()
    secretary.goto(f"{base}/evaluations/commitments/{c.pk}/")
    secretary.get_by_label("验收意见").fill("经核查，整改到位。")
    secretary.get_by_role("button", name="验收完成").click()
    order.refresh_from_db()
    assert order.status == RectificationStatus.CLOSED and order.closed_at is not None
    assert [s.kind for s in order.steps.order_by("id")] == ["issue", "respond", "close"]
    shot(secretary, "evaluation-07-closed")
