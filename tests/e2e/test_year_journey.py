"""A whole campaign year in the browser, from an empty database, through the UI only.

The set-up for a new installation (config/deploy/README.md: `migrate`, then `bootstrap_admins`)
is the only thing done outside the browser. From there every step is a person at a browser: the system
administrator imports the organisation tree and opens accounts, staff import the roster, the
public writes to the 意见箱 on a phone, the branch drafts, the parent returns and approves, staff
print the triplicate and publish, progress is recorded with a photo, the public rates, the leader
comments, the parent assesses, orders rectification, closes it and publishes the results; the
coverage dashboard shows no blank spot and the ledger is exported and read back.

Every page the journey shows is checked with axe-core (WCAG 2.1 AA, no serious or critical
violation); public pages are used at 375 px and without JavaScript; forms are checked to keep what
was typed when validation fails. A screenshot of each step goes to SCREENSHOT_DIR (kept by CI).
The database is only read, to confirm what the pages say.
"""
import datetime
import io
import re

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from commitments.models import Commitment, CommitmentStatus
from evaluations.models import RectificationOrder, RectificationStatus
from orgs.models import Member
from tests.commitments.evidence import image_bytes
from tests.commitments.test_pdf import flat, pages
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import page_width, shot
from tests.orgs.test_roster_import import openpyxl_xlsx

pytestmark = pytest.mark.e2e

ROOT = "中共珠海市直属机关工作委员会"
PARTY_COMMITTEE = "中共珠海市民政局机关委员会"
BRANCH = "市民政局社会救助科党支部"
FIRST_PASSWORD = "Chushi@2026"  # what the administrator gives out; changed at the first login
PASSWORD = "Gongkai#2026nian"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 375, "height": 812}
REQUIREMENTS = ("体现先进性要求", "体现中心工作要求", "体现部门岗位职责特点", "符合群众意愿", "切实可行")


class Person:
    """One person at one browser: their own context (cookies), viewport and confirmations."""

    def __init__(self, browser, base: str, name: str, *, viewport=DESKTOP, javascript=True):
        self.base, self.name, self.javascript = base, name, javascript
        self.context = browser.new_context(viewport=viewport, locale="zh-CN", java_script_enabled=javascript,
                                           is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
        self.page = self.context.new_page()
        self.page.set_default_timeout(15000)
        self.confirmations: list[str] = []
        self.page.on("dialog", self._confirm)

    def _confirm(self, dialog):
        # Irreversible actions ask first (data-confirm); the person reads the question and agrees.
        self.confirmations.append(dialog.message)
        dialog.accept()

    def go(self, path: str):
        """Opens a page, which must answer 200 and pass axe before anything is done on it."""
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == 200, (path, response and response.status)
        self.accessible(path)
        return self.page

    def check(self, step: str) -> None:
        """The page as it is now (after whatever was done on it): axe, and a screenshot."""
        self.accessible(step)
        shot(self.page, f"year-{step}")

    def accessible(self, where: str) -> None:
        """No serious/critical axe violation on the page as it is now.

        Without JavaScript nothing can be evaluated in the page (Playwright's evaluate never
        returns), so axe checks the same address in a scripted context of the same size."""
        if self.javascript:
            assert_accessible(self.page, f"{where} ({self.name}: {self.page.url})")
        else:
            twin = self.context.browser.new_context(viewport=self.page.viewport_size, locale="zh-CN")
            try:
                page = twin.new_page()
                page.goto(self.page.url)
                assert_accessible(page, f"{where} ({self.name}: {self.page.url})")
            finally:
                twin.close()

    def log_in(self, username: str, password: str, new_password: str | None = None) -> None:
        p = self.go("/accounts/login/")
        p.get_by_label("用户名").fill(username)
        p.get_by_label("密码").fill(password)
        with p.expect_navigation():
            p.get_by_role("button", name="登录").click()
        if "/accounts/password/" in p.url:
            # First login with the password someone else set: it must be changed first.
            expect(p.get_by_text("请先修改密码")).to_be_visible()
            p.get_by_label("原密码").fill(password)
            p.get_by_label("新密码").first.fill(new_password or PASSWORD)
            p.get_by_label("再次输入新密码").fill(new_password or PASSWORD)
            with p.expect_navigation():
                p.get_by_role("button", name="修改密码").click()
        assert p.url == self.base + "/", p.url

    def approve(self, pk: int, opinion: str = "同意。", step: str = "") -> None:
        """审定通过 on the review page: the five requirements ticked, the opinion written."""
        p = self.go(f"/reviews/{pk}/")
        for label in REQUIREMENTS:
            p.get_by_label(label).check()
        p.get_by_label("审定意见").fill(opinion)
        if step:
            self.check(step)
        with p.expect_navigation():
            p.get_by_role("button", name="审定通过").click()
        self.confirmed("审定通过", "不能撤回")
        assert Commitment.objects.get(pk=pk).status == CommitmentStatus.APPROVED

    def confirmed(self, *words: str) -> None:
        """The action just taken asked first, naming what will happen."""
        assert self.confirmations, "no confirmation was asked"
        last = self.confirmations.pop()
        self.confirmations.clear()
        for w in words:
            assert w in last, (w, last)

    def close(self):
        self.context.close()


def fill_draft(page, goal: str, content: str, measures: str, deadline: str, responsible: str | None = None):
    """The goal and the first item of a draft: 创建目标/具体措施 for an organisation, 争当目标/完成措施
    for a member (who has no 履行责任人)."""
    member = responsible is None
    page.get_by_label("争当目标" if member else "创建目标").fill(goal)
    page.get_by_label("承诺内容").first.fill(content)
    page.get_by_label("完成措施" if member else "具体措施").first.fill(measures)
    page.get_by_label("完成时限").first.fill(deadline)
    if not member:
        page.get_by_label("履行责任人").first.fill(responsible)


def error_of(field) -> str:
    """The error the field announces: marked invalid, described by the message next to it."""
    assert field.get_attribute("aria-invalid") == "true"
    return field.evaluate("""el => (el.getAttribute('aria-describedby') || '').split(/\\s+/)
        .map(id => document.getElementById(id)).filter(e => e && e.id.endsWith('_error'))
        .map(e => e.textContent.trim()).join(' ')""")


def tab_to(page, target, limit: int = 60) -> None:
    """Moves the focus with the Tab key only until `target` has it; each stop shows its focus."""
    handle = target.element_handle()
    for _ in range(limit):
        if page.evaluate("el => document.activeElement === el", handle):
            break
        page.keyboard.press("Tab")
        # Every element the keyboard stops at shows where the focus is (:focus-visible ring);
        # past the last one the focus leaves the page (the body) and comes round again.
        style = page.evaluate("""() => { const a = document.activeElement;
            if (!a || a === document.body) return null;
            const s = getComputedStyle(a); return [s.outlineStyle, s.boxShadow, a.outerHTML.slice(0, 200)]; }""")
        assert style is None or style[0] != "none" or style[1] != "none", style
    else:
        raise AssertionError(f"{target} cannot be reached with the Tab key")
    assert page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") != "none"


def pk_in(url: str, prefix: str) -> int:
    return int(re.search(prefix + r"(\d+)/", url).group(1))


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path


def test_a_campaign_year_in_the_browser(live_server, browser, media, capsys):
    base = live_server.url
    today = timezone.localdate()
    year = today.year
    people: list[Person] = []

    def person(name, **kw) -> Person:
        people.append(Person(browser, base, name, **kw))
        return people[-1]

    # --- 0. A new installation (config/deploy/README.md): bootstrap_admins prints the passwords. ---
    call_command("bootstrap_admins", root_name=ROOT, root_code="SZJG")
    printed = capsys.readouterr().out
    sysadmin_password = re.search(r"系统管理员\s+用户名 sysadmin\s+初始密码 (\S+)", printed).group(1)

    try:
        # --- 1. The administrator sets up the organisations, the year and the accounts. ---------
        admin = person("系统管理员")
        admin.log_in("sysadmin", sysadmin_password)
        admin.check("01-admin-home")

        # The organisation tree from a sheet another system exported: the branch's parent is a
        # later row of the same sheet, the party committee's parent is the root's code.
        orgs_xlsx = media / "组织架构.xlsx"
        orgs_xlsx.write_bytes(openpyxl_xlsx([
            ["党组织名称", "上级党组织", "组织类型", "组织编码", "简称", "监督电话"],
            [BRANCH, PARTY_COMMITTEE, "党支部", "MZJ-JZK", "社会救助科党支部", "0756-2210001"],
            [PARTY_COMMITTEE, "SZJG", "党委", "MZJ", "民政局机关党委", "0756-2210000"],
        ]))
        p = admin.go("/orgs/import/")
        admin.check("02-org-import")
        p.get_by_label("组织架构表").set_input_files(str(orgs_xlsx))
        p.get_by_role("button", name="上传并预览").click()
        admin.check("03-org-import-preview")
        with p.expect_navigation():
            p.get_by_role("button", name="确认导入").click()
        p = admin.go("/orgs/")
        admin.check("04-org-tree")
        p.get_by_role("link", name=PARTY_COMMITTEE).first.click()
        committee_pk = pk_in(p.url, "/orgs/")
        expect(p.get_by_role("link", name=BRANCH).first).to_be_visible()
        p.get_by_role("link", name=BRANCH).first.click()
        branch_pk = pk_in(p.url, "/orgs/")

        # The campaign year with its deadlines; a wrong date first: the form keeps what was typed.
        p = admin.go("/campaigns/new/")
        p.get_by_label("活动名称").fill(f"{year}年创先争优公开承诺")
        p.get_by_role("spinbutton", name="年度").fill(str(year))
        p.get_by_label("定诺截止日期").fill((today + datetime.timedelta(days=30)).isoformat())
        p.get_by_label("亮诺截止日期").fill((today + datetime.timedelta(days=14)).isoformat())
        p.get_by_label("评诺截止日期").fill((today + datetime.timedelta(days=60)).isoformat())
        p.get_by_label("群众评议开始日期").fill(today.isoformat())
        p.get_by_label("当前年度").check()
        p.get_by_role("button", name="保存").click()
        assert error_of(p.get_by_label("亮诺截止日期")) == "亮诺截止日期不能早于定诺截止日期。"
        assert p.get_by_label("活动名称").input_value() == f"{year}年创先争优公开承诺"
        admin.check("05-campaign-error")
        p.get_by_label("定诺截止日期").fill((today + datetime.timedelta(days=7)).isoformat())
        with p.expect_navigation():
            p.get_by_role("button", name="保存").click()
        expect(p.get_by_text(f"{year}年创先争优公开承诺").first).to_be_visible()
        admin.check("06-campaigns")

        def open_account(username, full_name, org_name, role, member=None):
            p = admin.go("/users/new/")
            p.get_by_label("用户名").fill(username)
            p.get_by_label("姓名").fill(full_name)
            p.get_by_label("初始密码").fill(FIRST_PASSWORD)
            p.get_by_label("所在党组织").select_option(label=org_name)
            p.get_by_label("角色").select_option(label=role)
            if member:
                p.get_by_label("关联党员档案").select_option(label=member)
                admin.check("07b-account-form")
            with p.expect_navigation():
                p.get_by_role("button", name="开通").click()
            expect(p.get_by_text(username).first).to_be_visible()

        open_account("gw_shuji", "陈卫东", ROOT, "书记")
        open_account("dw_shuji", "林海燕", PARTY_COMMITTEE, "书记")
        open_account("zb_shuji", "黄志强", BRANCH, "书记")
        open_account("zb_zuzhi", "吴晓梅", BRANCH, "组织委员/党务工作者")
        admin.check("07-account")

        # --- Staff import the roster (a sheet from another system: title row, its own headers). -
        staff = person("组织委员")
        staff.log_in("zb_zuzhi", FIRST_PASSWORD)
        roster = media / "党员名册.xlsx"
        roster.write_bytes(openpyxl_xlsx([
            ["市民政局社会救助科党支部党员花名册"],
            ["序号", "党员姓名", "性别", "出生日期", "入党时间", "职务", "所在党组织", "手机号码", "人员类别"],
            [1, "王建国", "男", "1978.05", "2001.07.01", "社会救助科科员", "社会救助科党支部", "13800000001", "在职"],
            [2, "李淑芬", "女", "1950年3月", "1976年7月1日", "退休干部", "MZJ-JZK", "", "离退休"],
            [3, "张伟", "男", "1985-11", "2010-06-30", "驻村第一书记", BRANCH, "13800000003", "在职"],
        ]))
        p = staff.go("/members/import/")
        staff.check("08-roster-import")
        p.get_by_label("名册文件").set_input_files(str(roster))
        p.get_by_role("button", name="上传并预览").click()
        expect(p.get_by_text("王建国").first).to_be_visible()
        staff.check("09-roster-preview")
        with p.expect_navigation():
            p.get_by_role("button", name="确认导入").click()
        p = staff.go("/members/")
        for name in ("王建国", "李淑芬", "张伟"):
            expect(p.get_by_role("link", name=name).first).to_be_visible()
        staff.check("10-member-list")
        # The register filters and sorts as a secretary expects.
        p.get_by_label("党员类别").select_option(label="离退休党员")
        with p.expect_navigation():
            p.get_by_role("button", name="筛选").click()
        expect(p.get_by_role("link", name="李淑芬")).to_be_visible()
        expect(p.get_by_role("link", name="王建国")).to_have_count(0)
        p = staff.go("/members/")
        with p.expect_navigation():
            p.get_by_role("link", name="出生年月").click()
        names = [n.strip() for n in p.locator("tbody tr td:first-child").all_inner_texts()]
        assert names == ["李淑芬", "王建国", "张伟"], names
        assert p.locator("th[aria-sort=ascending]").inner_text().startswith("出生年月")
        roster_read = {m.name: m for m in Member.objects.filter(branch_id=branch_pk)}
        assert set(roster_read) == {"王建国", "李淑芬", "张伟"}
        assert roster_read["李淑芬"].category == "retired"
        assert roster_read["李淑芬"].birth_month == datetime.date(1950, 3, 1)
        assert roster_read["王建国"].joined_party_on == datetime.date(2001, 7, 1)
        assert roster_read["张伟"].birth_month == datetime.date(1985, 11, 1)

        open_account("wangjg", "王建国", BRANCH, "党员", member=f"王建国（{BRANCH}）")

        # --- 2. The public writes to the branch's 意见箱 on a phone; staff adopt it. -------------
        public = person("群众（手机）", viewport=PHONE)
        p = public.go(f"/public/orgs/{branch_pk}/")
        public.check("11-public-org-phone")
        p.get_by_role("link", name="向本组织提意见建议").click()
        p.get_by_role("button", name="提交意见建议").click()  # empty: told what to fix, nothing lost
        assert error_of(p.get_by_label("意见建议")) == "请填写意见建议。"
        public.check("12-suggest-error-phone")
        p.get_by_label("意见建议").fill("希望社会救助科为辖区独居老人建立定期探访和临时救助台账，做到发现及时、救助及时。")
        p.get_by_label("联系方式（选填）").fill("13900000000")
        p.get_by_role("button", name="提交意见建议").click()
        expect(p.get_by_text("感谢").first).to_be_visible()
        assert page_width(p) <= PHONE["width"]
        public.check("13-suggest-thanks-phone")

        secretary = person("支部书记")
        secretary.log_in("zb_shuji", FIRST_PASSWORD)
        p = staff.go(f"/orgs/{branch_pk}/opinions/")
        staff.check("14-opinions")
        p.get_by_role("link", name=re.compile("独居老人")).first.click()
        # No commitment yet: staff start the branch's draft from here, then adopt.
        with p.expect_navigation():
            p.get_by_role("button", name=f"建立{year}年度公开承诺草稿").click()
        staff.check("15-opinion-adopt")
        p.get_by_label("承诺内容").fill("为辖区独居老人建立定期探访和临时救助台账")
        p.get_by_label("具体措施").fill("每月探访一次，发现困难当周启动临时救助")
        p.get_by_label("完成时限").fill(f"{year}-12-31")
        p.get_by_label("履行责任人").fill("黄志强")
        with p.expect_navigation():
            p.get_by_role("button", name="采纳", exact=True).click()
        staff.confirmed("采纳")
        expect(p.get_by_text("已转为承诺事项")).to_be_visible()

        # --- 3. The branch drafts and submits; the parent returns; the branch revises; approved.
        p = secretary.go(f"/orgs/{branch_pk}/pledges/")
        secretary.check("16-branch-pledges")
        p.get_by_role("link", name="查看").first.click()
        branch_commitment_pk = pk_in(p.url, "/commitments/")
        p.get_by_role("link", name="修改").first.click()
        p.get_by_label("创建目标").fill("创建为民务实、服务群众的先进党支部")
        with p.expect_navigation():
            p.get_by_role("button", name="保存并增加一条").click()
        p.get_by_label("承诺内容").nth(1).fill("党员每人联系两户困难家庭")
        p.get_by_label("具体措施").nth(1).fill("")  # left empty: the form must say what is missing
        p.get_by_label("完成时限").nth(1).fill(f"{year}-12-31")
        p.get_by_role("button", name="保存草稿").click()
        assert p.get_by_label("承诺内容").nth(1).input_value() == "党员每人联系两户困难家庭"
        assert error_of(p.get_by_label("具体措施").nth(1)) == "请填写具体措施。"
        secretary.check("17-commitment-edit-error")
        p.get_by_label("具体措施").nth(1).fill("建立联系卡，每季度上门一次")
        p.get_by_label("履行责任人").nth(1).fill("全体党员")
        secretary.check("18-commitment-edit")
        with p.expect_navigation():
            p.get_by_role("button", name="保存并提交审核").click()
        secretary.confirmed("第1版", PARTY_COMMITTEE, "审核")
        expect(p.get_by_text("已提交第1版").first).to_be_visible()
        secretary.check("18b-commitment-submitted")

        parent = person("机关党委书记")
        parent.log_in("dw_shuji", FIRST_PASSWORD)
        p = parent.go("/")
        parent.check("19-parent-home")
        p.get_by_role("link", name=re.compile("待审核")).first.click()
        parent.check("20-review-queue")
        p.goto(f"{base}/reviews/{branch_commitment_pk}/")
        p.get_by_label("审定意见").fill("第二条措施请写明联系的困难家庭如何确定。")
        with p.expect_navigation():
            p.get_by_role("button", name="退回修改").click()
        parent.confirmed("退回")
        assert Commitment.objects.get(pk=branch_commitment_pk).status == CommitmentStatus.RETURNED

        p = secretary.go("/")
        secretary.check("21a-secretary-todo")
        p.get_by_role("link", name=re.compile("退回")).first.click()
        p = secretary.go(f"/commitments/{branch_commitment_pk}/")
        expect(p.get_by_text("如何确定").first).to_be_visible()
        p.get_by_role("link", name="修改").first.click()
        p.get_by_label("具体措施").nth(1).fill("按民政低保、低边名单确定联系户，建立联系卡，每季度上门一次")
        with p.expect_navigation():
            p.get_by_role("button", name="保存并提交审核").click()
        secretary.confirmed("第2版")
        expect(p.get_by_text("已提交第2版").first).to_be_visible()

        parent.approve(branch_commitment_pk, "同意公开承诺。", step="21-review")

        # The party committee commits too, and the 工委 approves it (every organisation with a
        # parent commits, or the coverage dashboard shows a blank spot).
        p = parent.go(f"/orgs/{committee_pk}/")
        with p.expect_navigation():
            p.get_by_role("button", name="本组织公开承诺").click()
        if "/edit/" not in p.url:
            p.get_by_role("link", name="修改").first.click()
        committee_commitment_pk = pk_in(p.url, "/commitments/")
        fill_draft(p, "创建服务型机关党组织", "机关党员全部到社区报到服务", "每名党员每季度参加一次社区服务",
                   f"{year}-12-31", responsible="林海燕")
        with p.expect_navigation():
            p.get_by_role("button", name="保存并提交审核").click()
        parent.confirmed(ROOT)
        city = person("工委书记")
        city.log_in("gw_shuji", FIRST_PASSWORD)
        city.approve(committee_commitment_pk)

        # A member drafts a pledge; staff record an oral pledge for the retired member; the member
        # away on assignment is deferred.
        wang = person("党员王建国（手机）", viewport=PHONE)
        p = wang.go("/accounts/login/")
        tab_to(p, p.get_by_label("用户名"))
        p.keyboard.type("wangjg")
        tab_to(p, p.get_by_label("密码"))
        p.keyboard.type(FIRST_PASSWORD)
        p.keyboard.press("Enter")
        p.wait_for_url("**/accounts/password/")
        tab_to(p, p.get_by_label("原密码"))
        p.keyboard.type(FIRST_PASSWORD)
        tab_to(p, p.get_by_label("新密码").first)
        p.keyboard.type(PASSWORD)
        tab_to(p, p.get_by_label("再次输入新密码"))
        p.keyboard.type(PASSWORD)
        tab_to(p, p.get_by_role("button", name="修改密码"))
        with p.expect_navigation():
            p.keyboard.press("Enter")
        assert p.url == base + "/"
        wang.check("21b-member-home")
        p.get_by_role("link", name="填写我的承诺").click()
        p.get_by_role("button", name="开始填写我的承诺").click()
        fill_draft(p, "争当服务群众的优秀共产党员", "每月为困难群众办一件实事", "结合社会救助工作，每月走访困难家庭",
                   f"{year}-12-31")
        wang.check("22-pledge-form-phone")
        assert page_width(p) <= PHONE["width"]
        with p.expect_navigation():
            p.get_by_role("button", name="保存并提交审核").click()
        wang.confirmed("第1版", BRANCH)
        expect(p.get_by_text("已提交第1版").first).to_be_visible()
        wang_pledge_pk = pk_in(p.url, "/commitments/")

        p = staff.go(f"/orgs/{branch_pk}/pledges/")
        row = p.get_by_role("row").filter(has_text="李淑芬")
        with p.expect_navigation():
            row.get_by_role("button", name="记录口头承诺").click()
        fill_draft(p, "退休不褪色，发挥余热", "参加社区义务巡逻，每周一次", "跟随社区志愿队巡逻", f"{year}-12-31")
        staff.check("23-oral-pledge")
        # 四（一）自愿: an oral pledge goes to review with how the member agreed on record.
        p.get_by_label("当面", exact=True).check()
        with p.expect_navigation():
            p.get_by_role("button", name="保存并提交审核").click()
        staff.confirmed("第1版")
        oral_pk = pk_in(p.url, "/commitments/")
        assert Commitment.objects.get(pk=oral_pk).is_oral

        p = staff.go(f"/orgs/{branch_pk}/pledges/")
        p.get_by_role("row").filter(has_text="张伟").get_by_role("link", name="免于/延期承诺").click()
        p.get_by_label("延期承诺").check()
        p.get_by_label("原因").fill("驻村任第一书记，年底返回")
        p.get_by_label("补课期限").fill((today + datetime.timedelta(days=20)).isoformat())
        staff.check("24-exemption")
        with p.expect_navigation():
            p.get_by_role("button", name="确认办理").click()

        # The branch secretary approves both pledges.
        for pk in (wang_pledge_pk, oral_pk):
            secretary.approve(pk)

        # --- 4. Staff print the triplicate of both forms and publish; the public finds both. ----
        def print_and_publish(pk, annex, words):
            p = staff.go(f"/commitments/{pk}/")
            href = p.get_by_role("link", name="打印承诺书（一式三份）").get_attribute("href")
            response = staff.context.request.get(base + href)
            assert response.ok and response.headers["content-type"] == "application/pdf"
            pages_text = [flat(t) for t in pages(response.body())]
            assert len(pages_text) == 3
            for page_text, copy in zip(pages_text, ("存", "存", "公示")):
                assert f"{annex}：" in page_text and copy in page_text and "一式三份" in page_text
                for w in words:
                    assert w in page_text, w
            p.get_by_label("公开日期").fill(today.isoformat())
            p.get_by_label("党务政务公开栏").check()
            p.get_by_label("网络").check()
            with p.expect_navigation():
                p.get_by_role("button", name="登记公开").click()
            staff.confirmed("公示栏")
            assert Commitment.objects.get(pk=pk).status == CommitmentStatus.PUBLISHED

        print_and_publish(branch_commitment_pk, "附件1", [BRANCH, "为辖区独居老人建立定期探访和临时救助台账",
                                                         "同意公开承诺。"])
        staff.check("25-published")
        print_and_publish(wang_pledge_pk, "附件2", ["王建国", "争当服务群众的优秀共产党员", "每月为困难群众办一件实事"])

        p = parent.go(f"/commitments/{committee_commitment_pk}/")
        p.get_by_label("公开日期").fill(today.isoformat())
        p.get_by_label("会议").check()
        with p.expect_navigation():
            p.get_by_role("button", name="登记公开").click()
        parent.confirmed("公开")
        assert Commitment.objects.get(pk=committee_commitment_pk).status == CommitmentStatus.PUBLISHED

        # 张伟 is back from his assignment: staff write his pledge with him (the make-up), submit it,
        # and only then register the 补课.
        p = staff.go(f"/orgs/{branch_pk}/pledges/")
        expect(p.get_by_role("row").filter(has_text="张伟").get_by_role("button", name="登记补课")).to_have_count(0)
        with p.expect_navigation():
            p.get_by_role("row").filter(has_text="张伟").get_by_role("button", name="代为填写").click()
        fill_draft(p, "争当驻村帮扶的先锋", "为所驻村引进一个增收项目", "对接市场主体，组织村民培训", f"{year}-12-31")
        p.get_by_label("当面", exact=True).check()  # he has no account: staff record his agreement
        with p.expect_navigation():
            p.get_by_role("button", name="保存并提交审核").click()
        staff.confirmed("第1版")
        zhang_pk = pk_in(p.url, "/commitments/")
        p = staff.go(f"/orgs/{branch_pk}/pledges/")
        with p.expect_navigation():
            p.get_by_role("row").filter(has_text="张伟").get_by_role("button", name="登记补课").click()
        staff.confirmed("张伟", "补课")
        secretary.approve(zhang_pk)
        p = staff.go(f"/orgs/{branch_pk}/pledges/")
        assert "已审定" in p.get_by_role("row").filter(has_text="张伟").inner_text()
        staff.check("25b-branch-pledges-done")

        p = public.go("/public/")
        p.get_by_label("按党组织名称或党员姓名查找").fill("社会救助科")
        p.get_by_role("button", name="查找").click()
        public.check("26a-noticeboard-search-phone")
        p.get_by_role("link", name=BRANCH).first.click()
        expect(p.get_by_text("为辖区独居老人建立定期探访和临时救助台账").first).to_be_visible()
        expect(p.get_by_text("王建国").first).to_be_visible()
        public.check("26-public-branch-phone")
        assert page_width(p) <= PHONE["width"]

        # Without JavaScript the noticeboard works the same.
        plain = person("群众（无脚本）", viewport=PHONE, javascript=False)
        p = plain.go("/public/")
        p.get_by_label("按党组织名称或党员姓名查找").fill("王建国")
        p.get_by_role("button", name="查找").click()
        p.get_by_role("link", name="王建国的公开承诺").click()
        expect(p.get_by_text("每月为困难群众办一件实事").first).to_be_visible()
        plain.check("27-public-pledge-nojs")

        # --- 5. 践诺 and 评诺. ------------------------------------------------------------------
        photo = media / "探访现场.jpg"
        photo.write_bytes(image_bytes("JPEG", (64, 48)))
        p = secretary.go(f"/commitments/{branch_commitment_pk}/progress/new/")
        p.get_by_label("承诺事项").select_option(index=1)
        p.locator("#id_happened_on").fill(today.isoformat())
        p.get_by_label("做了什么").fill("走访独居老人12户，建立探访台账。")
        p.get_by_label("实际效果").fill("为2户老人启动临时救助。")
        p.get_by_label("公开", exact=True).check()
        p.get_by_label("佐证材料").set_input_files(str(photo))
        secretary.check("28-progress-form")
        p.get_by_role("button", name="登记").click()
        expect(p.get_by_text("践诺记录已登记").first).to_be_visible()
        secretary.check("29-progress")
        # The member records his own progress from his phone, with a photo taken there.
        p = wang.go(f"/commitments/{wang_pledge_pk}/progress/new/")
        p.get_by_label("承诺事项").select_option(index=1)
        p.locator("#id_happened_on").fill(today.isoformat())
        p.get_by_label("做了什么").fill("走访困难家庭2户，帮助申请临时救助。")
        p.get_by_label("公开", exact=True).check()
        p.get_by_label("佐证材料").set_input_files(str(photo))
        assert page_width(p) <= PHONE["width"]
        wang.check("29b-progress-form-phone")
        p.get_by_role("button", name="登记").click()
        expect(p.get_by_text("践诺记录已登记").first).to_be_visible()

        p = public.go(f"/public/commitments/{branch_commitment_pk}/")
        expect(p.get_by_text("走访独居老人12户").first).to_be_visible()
        p.get_by_text("满意", exact=True).click()
        p.get_by_role("button", name="提交评议").click()
        expect(p.get_by_text("感谢您参与群众评议").first).to_be_visible()
        public.check("30-rated-phone")

        # The leader (the parent's secretary) comments; the parent assesses 未兑现 and orders
        # rectification; the branch responds; the parent verifies and closes; assessed again.
        p = parent.go(f"/evaluations/commitments/{branch_commitment_pk}/")
        p.get_by_label("基本满意").first.check()
        p.get_by_label("点评意见").fill("探访台账建立及时，临时救助还要更快。")
        with p.expect_navigation():
            p.get_by_role("button", name=re.compile("保存点评")).click()
        p.get_by_label("未兑现", exact=True).check()
        p.get_by_label("等次").select_option(index=4)
        p.get_by_label("考核意见").fill("联系困难家庭的承诺尚未开展。")
        with p.expect_navigation():
            p.get_by_role("button", name="保存考核结果").click()
        p.get_by_label("整改原因").fill("组织考核结果为“未兑现”。")
        p.get_by_label("整改要求").fill("一个月内完成联系困难家庭，报送联系卡。")
        p.get_by_label("整改期限").fill((today + datetime.timedelta(days=30)).isoformat())
        parent.check("31-assessed")
        with p.expect_navigation():
            p.get_by_role("button", name="下达整改通知").click()
        parent.confirmed("整改")
        order = RectificationOrder.objects.get(commitment_id=branch_commitment_pk)

        p = secretary.go("/")
        p.get_by_role("link", name=re.compile("待整改")).click()
        secretary.check("32-rectifications")
        p = secretary.go(f"/evaluations/commitments/{branch_commitment_pk}/")
        p.get_by_label("整改情况").fill("已为全部8户困难家庭建立联系卡并上门走访。")
        with p.expect_navigation():
            p.get_by_role("button", name="提交整改情况").click()

        p = parent.go(f"/evaluations/commitments/{branch_commitment_pk}/")
        p.get_by_label("验收意见").fill("经核查，整改到位。")
        with p.expect_navigation():
            p.get_by_role("button", name="验收完成").click()
        parent.confirmed("验收")
        order.refresh_from_db()
        assert order.status == RectificationStatus.CLOSED
        p.get_by_label("已兑现", exact=True).check()
        p.get_by_label("等次").select_option(index=1)
        p.get_by_label("考核意见").fill("整改后承诺全部兑现。")
        with p.expect_navigation():
            p.get_by_role("button", name="保存考核结果").click()
        parent.check("33-reassessed")

        # The year moves on: the administrator closes 群众评议 (评诺截止 yesterday); results published.
        p = admin.go("/campaigns/")
        p.get_by_role("link", name="编辑").first.click()
        admin.check("33b-campaign-edit")
        p.get_by_label("定诺截止日期").fill((today - datetime.timedelta(days=3)).isoformat())
        p.get_by_label("亮诺截止日期").fill((today - datetime.timedelta(days=2)).isoformat())
        p.get_by_label("群众评议开始日期").fill((today - datetime.timedelta(days=2)).isoformat())
        p.get_by_label("评诺截止日期").fill((today - datetime.timedelta(days=1)).isoformat())
        with p.expect_navigation():
            p.get_by_role("button", name="保存").click()
        p = parent.go(f"/evaluations/commitments/{branch_commitment_pk}/")
        tab_to(p, p.get_by_role("button", name="公布评议结果"), limit=120)
        with p.expect_navigation():
            p.keyboard.press("Enter")
        parent.confirmed("公布", "公示栏")
        parent.check("34-released")
        p = public.go(f"/public/commitments/{branch_commitment_pk}/")
        expect(p.get_by_text("已兑现").first).to_be_visible()
        public.check("35-public-result-phone")

        # --- 6. Coverage: no blank spot; the ledger exports and reads back. --------------------
        p = city.go("/coverage/")
        city.check("36-coverage")
        blank_members = p.locator(".card").filter(has_text="空白点党员（未提交承诺")
        assert re.search(r"\b0\s*名", blank_members.inner_text()), blank_members.inner_text()
        assert "未承诺 0" in flat(p.locator("main").inner_text()).replace("未承诺0", "未承诺 0")
        href = p.get_by_role("link", name="导出承诺台账").get_attribute("href")
        response = city.context.request.get(base + href)
        assert response.ok
        ws = openpyxl.load_workbook(io.BytesIO(response.body()), read_only=True)["承诺台账"]
        rows = [[c for c in row] for row in ws.iter_rows(values_only=True)]
        header = next(r for r in rows if r and "承诺主体" in r)
        body = [dict(zip(header, r)) for r in rows[rows.index(header) + 1:] if r and r[0]]
        by_owner = {r["承诺主体"]: r for r in body}
        assert set(by_owner) >= {"王建国", "李淑芬", "张伟"}, by_owner.keys()
        branch_row = next(r for r in body if "独居老人" in (r["承诺事项及完成时限"] or ""))
        assert branch_row["综合评定"] == "已兑现" and branch_row["公开日期"] is not None
        assert by_owner["王建国"]["状态"] == "已公开"
        assert len(body) == 5  # two organisations, three members
    finally:
        for someone in people:
            someone.close()
