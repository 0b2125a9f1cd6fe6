"""定诺 → 审诺 in the browser: a member drafts a pledge, the branch secretary returns it, the member
revises, the secretary approves; the history shows both versions."""
import pytest
from playwright.sync_api import expect

from commitments.models import Commitment, CommitmentStatus, ReviewDecision
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in, shot

pytestmark = pytest.mark.e2e


def accept_dialogs(page):
    # Submit, return and approve ask for confirmation (data-confirm); the user says yes.
    page.on("dialog", lambda dialog: dialog.accept())


def test_pledge_returned_revised_and_approved(world, live_server, browser):
    base = live_server.url
    member = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    accept_dialogs(member)
    log_in(member, base, "member_a", PASSWORD)
    member.get_by_role("link", name="填写我的承诺").click()
    member.get_by_role("button", name="开始填写我的承诺").click()
    member.get_by_label("争当目标").fill("争当立足岗位、服务群众的优秀共产党员")
    # The form offers one blank item to start with (and one more after each save).
    member.get_by_label("承诺内容").first.fill("带头学习实践科学发展观")
    member.get_by_label("完成措施").first.fill("每月参加一次支部学习")
    member.get_by_label("完成时限").first.fill("2010-12-31")
    shot(member, "pledge-01-draft-form")
    member.get_by_role("button", name="保存并提交审核").click()
    expect(member.get_by_text("已提交第1版").first).to_be_visible()

    secretary = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    accept_dialogs(secretary)
    log_in(secretary, base, "secretary_a", PASSWORD)
    expect(secretary.get_by_text("1 条待审核")).to_be_visible()
    secretary.get_by_role("link", name="1 条待审核").click()
    shot(secretary, "pledge-02-queue")
    secretary.get_by_role("link", name="审核").filter(has_text="审核").last.click()
    secretary.get_by_label("审定意见").fill("措施过于笼统，请结合岗位写明为群众办的实事。")
    secretary.get_by_role("button", name="退回修改").click()
    c = Commitment.objects.get(member=world.member_a)
    assert c.status == CommitmentStatus.RETURNED

    member.goto(base + "/my/pledge/")
    expect(member.get_by_text("措施过于笼统").first).to_be_visible()
    member.get_by_role("link", name="修改").click()
    member.get_by_label("完成措施").first.fill("每月参加一次支部学习；为社区困难群众办两件实事")
    member.get_by_role("button", name="保存并提交审核").click()
    expect(member.get_by_text("已提交第2版").first).to_be_visible()

    secretary.goto(base + f"/reviews/{c.pk}/")
    expect(secretary.get_by_text("为社区困难群众办两件实事").first).to_be_visible()
    for label in ("体现先进性要求", "体现中心工作要求", "体现部门岗位职责特点", "符合群众意愿", "切实可行"):
        secretary.get_by_label(label).check()
    secretary.get_by_label("审定意见").fill("同意。")
    shot(secretary, "pledge-03-review")
    secretary.get_by_role("button", name="审定通过").click()
    c.refresh_from_db()
    assert c.status == CommitmentStatus.APPROVED
    assert list(ReviewDecision.objects.filter(commitment=c).order_by("decided_at")
                .values_list("decision", "version__number")) == [("return", 1), ("approve", 2)]

    member.goto(base + f"/commitments/{c.pk}/")
    expect(member.get_by_text("已审定").first).to_be_visible()
    expect(member.get_by_role("link", name="第1版")).to_be_visible()
    expect(member.get_by_role("link", name="第2版")).to_be_visible()
    member.get_by_role("link", name="第2版").click()
    expect(member.get_by_text("与第1版相比的修改")).to_be_visible()
    shot(member, "pledge-04-history")


def test_pledge_drafted_by_staff_is_confirmed_by_the_member_before_review(world, live_server, browser):
    """四（一）自愿 and 四（二）: staff draft for a member with an account; the member confirms from the
    home page's to-do; the reviewer sees 本人确认, cannot approve with a requirement unticked, and
    approves when all five are met."""
    base = live_server.url
    staff = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    accept_dialogs(staff)
    log_in(staff, base, "staff_a", PASSWORD)
    c = Commitment.objects.create(campaign=world.campaign, member=world.member_a, reviewer_org=world.branch_a,
                                  created_by=world.staff_a)
    staff.goto(base + f"/commitments/{c.pk}/edit/")
    staff.get_by_label("争当目标").fill("争当立足岗位、服务群众的优秀共产党员")
    staff.get_by_label("承诺内容").first.fill("带头学习实践科学发展观")
    staff.get_by_label("完成措施").first.fill("每月参加一次支部学习")
    staff.get_by_label("完成时限").first.fill("2010-12-31")
    staff.get_by_role("button", name="保存并提交本人确认").click()
    expect(staff.get_by_text("等待李娜本人确认").first).to_be_visible()
    c.refresh_from_db()
    assert c.status == CommitmentStatus.CONFIRMING

    member = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    accept_dialogs(member)
    log_in(member, base, "member_a", PASSWORD)
    member.get_by_role("link", name="确认我的公开承诺").click()
    expect(member.get_by_text("带头学习实践科学发展观").first).to_be_visible()
    shot(member, "pledge-05-confirm")
    member.get_by_role("button", name="确认承诺").click()
    expect(member.get_by_text("您已确认承诺").first).to_be_visible()
    c.refresh_from_db()
    assert c.status == CommitmentStatus.SUBMITTED

    secretary = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    accept_dialogs(secretary)
    log_in(secretary, base, "secretary_a", PASSWORD)
    secretary.goto(base + f"/reviews/{c.pk}/")
    expect(secretary.get_by_text("本人确认于").first).to_be_visible()
    for label in ("体现先进性要求", "体现中心工作要求", "体现部门岗位职责特点", "符合群众意愿"):
        secretary.get_by_label(label).check()
    secretary.get_by_label("审定意见").fill("同意。")
    secretary.get_by_role("button", name="审定通过").click()
    expect(secretary.get_by_text("未确认“切实可行”").first).to_be_visible()
    c.refresh_from_db()
    assert c.status == CommitmentStatus.SUBMITTED
    secretary.get_by_label("切实可行").check()
    secretary.get_by_role("button", name="审定通过").click()
    c.refresh_from_db()
    assert c.status == CommitmentStatus.APPROVED
