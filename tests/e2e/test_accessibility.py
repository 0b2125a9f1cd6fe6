"""WCAG 2.1 AA (GB/T 37668-2019) over the demo data: one page of each kind per role, forms in their
error state, the public pages on a phone and without JavaScript. axe-core must find no serious or
critical violation (tests/e2e/a11y.py); on a 375-px phone the public pages must not scroll sideways.

The demo data (`manage.py seed_demo`) has something in every state, so the pages are full; ids are
found through the ORM or the pages' own links, never assumed.
"""
import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from commitments.models import Commitment, CommitmentStatus, StampedScan
from orgs.models import Organisation
from portal.management.commands.seed_demo import DEMO_PASSWORD, ROOT_CODE
from tests.e2e.a11y import describe, violations
from tests.e2e.conftest import log_in, page_width, shot

pytestmark = pytest.mark.e2e

PHONE_WIDTH = 375
TEXT_FIELDS = ", ".join(f"main form {s}" for s in ("input:not([type])", "input[type=text]", "input[type=number]",
                                                    "input[type=date]", "input[type=email]", "input[type=password]",
                                                    "textarea"))
CLEAR_ALL = f"() => document.querySelectorAll('{TEXT_FIELDS}').forEach(e => {{ e.value = ''; }})"


class Checker:
    """Visits pages and collects every page's violations, so one run reports them all."""

    def __init__(self, base: str):
        self.base = base
        self.failures: list[str] = []
        self.checked = 0

    def check(self, page, where: str) -> None:
        self.checked += 1
        found = violations(page)
        if found:
            self.failures.append(f"{where} ({page.url}):\n{describe(found)}")

    def visit(self, page, path: str, where: str = "") -> None:
        response = page.goto(self.base + path)
        assert response is not None and response.status == 200, f"{path}: {response and response.status}"
        self.check(page, where or path)

    def first_link(self, page, selector: str) -> str:
        """The href of the first link matching `selector` on the page now (a detail page to visit)."""
        href = page.locator(selector).first.get_attribute("href")
        assert href and href.startswith("/"), f"no link {selector} on {page.url}"
        return href

    def submit_empty(self, page, path: str, button: str, where: str, *, clear=None, fill=None) -> None:
        """Opens the form, empties the given fields (all text fields by default; browser validation
        off), submits it and checks the page that answers, which must show the errors."""
        self.visit(page, path)
        page.evaluate("() => document.querySelectorAll('form').forEach(f => { f.noValidate = true; })")
        if clear is None:
            page.evaluate(CLEAR_ALL)
        for name in clear or ():
            page.locator(f"[name='{name}']").fill("")
        for name, value in (fill or {}).items():
            page.locator(f"[name='{name}']").evaluate("(e, v) => { e.type = 'text'; e.value = v; }", value)
        with page.expect_navigation():
            page.locator("main").get_by_role("button", name=button, exact=True).click()
        assert page.locator(".invalid-feedback, .alert-danger, [role=alert]").count(), f"no errors on {path}"
        self.check(page, where)


def _log_in_as(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    log_in(page, base, username, DEMO_PASSWORD)


def test_pages_pass_axe_for_every_role_on_desktop_and_phone(live_server, page, phone_page):
    call_command("seed_demo", stdout=io.StringIO())
    base = live_server.url
    root = Organisation.objects.get(code=ROOT_CODE)
    own_draft = Commitment.objects.get(member__user__username="member")
    published = (Commitment.objects.filter(status=CommitmentStatus.PUBLISHED, member__isnull=False)
                 .select_related("member__branch").first())
    branch = published.member.branch
    waiting = Commitment.objects.filter(status=CommitmentStatus.SUBMITTED, member__branch=branch).first()
    waiting_org = Commitment.objects.filter(status=CommitmentStatus.SUBMITTED, organisation=branch).first()
    run = Checker(base)
    page.on("dialog", lambda dialog: dialog.accept())

    # Anonymous: the login page and its error state.
    run.visit(page, "/accounts/login/")
    page.get_by_label("用户名").fill("nobody")
    page.get_by_label("密码").fill("wrong")
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    run.check(page, "登录（错误）")

    # 系统管理员: the tree (and its keyboard toggle), accounts, campaigns, forms with errors.
    _log_in_as(page, base, "admin")
    run.check(page, "admin 首页")
    toggle = page.locator(".navbar .dropdown-toggle")
    toggle.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("() => document.activeElement.classList.contains('dropdown-item')")
    page.keyboard.press("Escape")
    run.visit(page, "/orgs/")
    tree_toggle = page.locator("a.tree-toggle[aria-expanded=false]").first
    tree_toggle.focus()
    assert page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement.getAttribute('aria-expanded') === 'true'")
    run.check(page, "组织架构（展开）")
    run.visit(page, f"/orgs/{root.pk}/")
    for path in ("/campaigns/", "/jobs/", "/orgs/import/", "/users/"):
        run.visit(page, path)
    run.visit(page, run.first_link(page, "main table a[href^='/users/']"), "账号详情")
    run.submit_empty(page, "/users/new/", "开通", "开通账号（错误）")
    run.submit_empty(page, "/campaigns/new/", "保存", "新建活动年度（错误）")
    run.submit_empty(page, f"/orgs/{root.pk}/edit/", "保存", "编辑党组织（错误）")

    # 账号安全管理员 and 审计员.
    _log_in_as(page, base, "security")
    run.visit(page, "/accounts/security/")
    run.visit(page, run.first_link(page, "main table a[href^='/accounts/security/']"), "账号安全详情")
    run.visit(page, "/admin-requests/")
    _log_in_as(page, base, "auditor")
    run.visit(page, "/audit/")
    run.visit(page, run.first_link(page, "main table a[href^='/audit/']"), "审计详情")

    # The city reviewer: lists, coverage, evaluations, awards.
    _log_in_as(page, base, "reviewer")
    for path in ("/", "/reviews/", "/commitments/", "/coverage/", "/coverage/members/", "/coverage/orgs/",
                 "/coverage/commitments/", "/evaluations/", "/evaluations/rectifications/",
                 f"/evaluations/orgs/{root.pk}/awards/", f"/orgs/{root.pk}/references/", "/members/"):
        run.visit(page, path)
    # A long list pages, and the next page keeps the order the secretary chose.
    with page.expect_navigation():
        page.get_by_role("link", name="出生年月").click()
    with page.expect_navigation():
        page.get_by_role("navigation", name="分页").get_by_role("link", name="下一页").click()
    assert "sort=birth" in page.url and "page=2" in page.url, page.url
    assert page.locator("nav[aria-label=分页] [aria-current=page]").inner_text().strip() == "2"
    assert page.locator("th[aria-sort=ascending]").inner_text().startswith("出生年月")
    run.check(page, "党员名册（第2页，按出生年月）")
    run.visit(page, run.first_link(page, "main table a[href^='/members/']"), "党员详情")

    # The committee and the branch: the review page, pledges, opinions, evaluation, progress.
    _log_in_as(page, base, "dw_secretary")
    run.visit(page, f"/reviews/{waiting_org.pk}/", "审核党组织承诺")
    run.visit(page, "/members/import/")
    run.submit_empty(page, "/members/new/", "保存", "登记党员（错误）")
    _log_in_as(page, base, "zb_secretary")
    run.visit(page, f"/reviews/{waiting.pk}/", "审核党员承诺")
    page.evaluate("() => document.querySelectorAll('form').forEach(f => { f.noValidate = true; })")
    page.get_by_role("button", name="退回修改").click()  # without an opinion: refused
    page.wait_for_load_state()
    assert page.locator(".invalid-feedback, .alert-danger").count()
    run.check(page, "审核（退回未填意见）")
    run.visit(page, "/reviews/bulk-approve/", "批量审定常规党员承诺")
    for path in (f"/orgs/{branch.pk}/pledges/", f"/commitments/{published.pk}/",
                 f"/evaluations/commitments/{published.pk}/"):
        run.visit(page, path)
    run.visit(page, f"/orgs/{branch.pk}/opinions/")
    run.visit(page, run.first_link(page, "main table a[href^='/opinions/']"), "意见建议详情")
    _log_in_as(page, base, "zb_staff")
    run.visit(page, f"/commitments/{published.pk}/progress/")
    run.submit_empty(page, f"/commitments/{published.pk}/progress/new/", "登记", "登记践诺（错误）")
    # 亮诺 after printing: the stamped form scanned back, its page, and both forms in their error state.
    scan = StampedScan.objects.filter(commitment=published).first()
    run.visit(page, f"/stamped/{scan.pk}/", "盖章件")
    run.submit_empty(page, f"/stamped/{scan.pk}/", "撤回", "撤回盖章件（错误）")
    run.submit_empty(page, f"/commitments/{published.pk}/stamped/new/", "上传", "上传盖章件（错误）")

    # A member: their pledge and the draft form in its error state.
    _log_in_as(page, base, "member")
    run.visit(page, "/my/pledge/")
    run.visit(page, "/my/branch-progress/", "本支部践诺情况")
    run.submit_empty(page, f"/commitments/{own_draft.pk}/edit/", "保存草稿", "填写承诺（错误）",
                     clear=["items-0-content"], fill={"items-0-deadline": "2010-13-45"})
    run.visit(page, "/accounts/password/")
    shot(page, "a11y-01-member")

    # On a phone: the collapsed navigation, and wide tables that scroll inside their box.
    _log_in_as(phone_page, base, "zb_secretary")
    phone_page.get_by_role("button", name="展开菜单").click()
    phone_page.locator("#nav-main.show").wait_for()
    run.check(phone_page, "手机 首页（菜单展开）")
    phone_pages = {"zb_secretary": ("/members/", "/coverage/", f"/evaluations/orgs/{branch.pk}/awards/"),
                   "admin": ("/campaigns/", "/users/"), "auditor": ("/audit/",)}
    for username, paths in phone_pages.items():
        if username != "zb_secretary":
            _log_in_as(phone_page, base, username)
        for path in paths:
            run.visit(phone_page, path, f"手机 {path}")
            width = page_width(phone_page)
            assert width <= PHONE_WIDTH + 1, f"{path} scrolls sideways on a phone: {width}px"

    # The error pages (DEBUG is off here): 404, and the expired form (CSRF) of a lost session.
    assert page.goto(base + "/no-such-page/").status == 404
    run.check(page, "404")
    page.context.clear_cookies()
    page.goto(base + "/accounts/login/")
    page.context.clear_cookies()
    page.get_by_label("用户名").fill("member")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("heading", name="页面已过期，请刷新后重试").wait_for()
    run.check(page, "页面已过期（CSRF）")

    assert not run.failures, f"{len(run.failures)} of {run.checked} pages fail axe-core:\n\n" + \
        "\n\n".join(run.failures)


def test_public_pages_on_a_phone_and_without_javascript(live_server, phone_page, browser):
    call_command("seed_demo", stdout=io.StringIO())
    base = live_server.url
    published = (Commitment.objects.filter(status=CommitmentStatus.PUBLISHED, member__isnull=False)
                 .select_related("member__branch").first())
    branch = published.member.branch
    stamped = StampedScan.objects.exclude(public_display="none").get().commitment  # its 公示 copy is shown
    paths = ["/public/", f"/public/orgs/{branch.pk}/", f"/public/commitments/{published.pk}/",
             f"/public/commitments/{published.pk}/progress/", f"/public/commitments/{stamped.pk}/",
             f"/public/orgs/{branch.pk}/suggest/"]  # the suggestion box last: its form is sent next
    run = Checker(base)

    for path in paths:
        run.visit(phone_page, path, f"手机 {path}")
        width = page_width(phone_page)
        assert width <= PHONE_WIDTH + 1, f"{path} scrolls sideways on a phone: {width}px"
    # The suggestion box and the appraisal form, sent empty: their error states.
    with phone_page.expect_navigation():
        phone_page.get_by_role("button", name="提交意见建议").click()
    assert phone_page.locator(".invalid-feedback").count()
    run.check(phone_page, "手机 意见箱（错误）")
    phone_page.goto(f"{base}/public/commitments/{published.pk}/")
    if phone_page.get_by_role("button", name="提交评议").count():
        with phone_page.expect_navigation():
            phone_page.get_by_role("button", name="提交评议").click()
        run.check(phone_page, "手机 群众评议（错误）")
    shot(phone_page, "a11y-02-public-phone")
    assert not run.failures, f"{len(run.failures)} of {run.checked} pages fail axe-core:\n\n" + \
        "\n\n".join(run.failures)

    # Without JavaScript the same pages show their content, and the suggestion box works.
    context = browser.new_context(viewport={"width": PHONE_WIDTH, "height": 812}, locale="zh-CN",
                                  is_mobile=True, has_touch=True, java_script_enabled=False)
    try:
        bare = context.new_page()
        bare.set_default_timeout(15000)
        for path in paths:
            assert bare.goto(base + path).status == 200
            expect(bare.locator("main h1").first, f"{path}: no visible heading without JavaScript").to_be_visible()
            assert page_width(bare) <= PHONE_WIDTH + 1, f"{path} scrolls sideways without JavaScript"
        bare.goto(f"{base}/public/commitments/{published.pk}/")
        expect(bare.get_by_text(published.owner_name).first).to_be_visible()
        bare.goto(f"{base}/public/commitments/{stamped.pk}/")
        scan_image = bare.locator("main img.stamped-scan")
        expect(scan_image).to_be_visible()
        assert scan_image.evaluate("img => img.naturalWidth") > 0
        assert scan_image.bounding_box()["width"] <= PHONE_WIDTH
        bare.goto(f"{base}/public/orgs/{branch.pk}/suggest/")
        bare.get_by_label("意见建议").fill("建议在社区服务中心增设党员志愿服务岗。")
        bare.get_by_role("button", name="提交意见建议").click()
        bare.get_by_role("heading", name="感谢您的意见建议！").wait_for()
        shot(bare, "a11y-03-public-no-js")
    finally:
        context.close()
