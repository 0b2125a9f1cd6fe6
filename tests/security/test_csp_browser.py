"""The Content-Security-Policy in a real browser: headless Chromium visits the pages with the most
behaviour (the home page, the coverage dashboard's ECharts, a public organisation page, the
commitment form, the public rating form and the suggestion box), uses them a little, and sees no
`securitypolicyviolation` event and no CSP message on the console."""
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import PASSWORD, make_member
from tests.e2e.conftest import ARGS, CHROMIUM, log_in
from tests.evaluations.builders import open_window, pledge

pytestmark = pytest.mark.e2e

# Runs before any page script (and is not itself subject to the page's policy).
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sample || ""));
});
"""


def in_browser(steps) -> None:
    """Run `steps(page)` in headless Chromium (launched as the e2e tests launch it), the page
    recording CSP violations and console messages about the policy.

    Runs in a thread of its own: Playwright's sync API must not share this thread's event loop
    with the e2e tests' session browser when both run in one pytest worker."""
    def run():
        from playwright.sync_api import sync_playwright

        if not os.path.exists(CHROMIUM):
            pytest.fail(f"Chromium not found at {CHROMIUM}: run `make test`, which installs it")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            try:
                context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
                page = context.new_page()
                page.set_default_timeout(15000)
                console = []
                page.on("console", lambda msg: console.append(msg.text) if msg.type in ("error", "warning") else None)
                page.add_init_script(RECORD_VIOLATIONS)
                page.csp_console = console
                steps(page)
            finally:
                browser.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run).result()


def violations(p) -> list[str]:
    events = p.evaluate("window.__csp || []")
    messages = [m for m in p.csp_console if "Content Security Policy" in m or "Content-Security-Policy" in m]
    return events + messages


def visit(p, url: str) -> None:
    response = p.goto(url)
    assert response.status < 400, url
    assert "Content-Security-Policy" in {k.title() for k in response.all_headers()} or \
        "content-security-policy" in response.all_headers()
    p.wait_for_load_state("load")


@pytest.fixture
def scene(world):
    """Published pledges in branches A and B (charts with two children), one blank member, the
    rating window open, and a draft the staff of branch A can edit."""
    open_window(world)
    world.rated = pledge(world, world.branch_a, "赵敏")
    pledge(world, world.branch_b, "钱学")
    make_member(world.branch_b, "孙立")
    from commitments.services.lifecycle import commitment_start
    world.draft = commitment_start(actor=world.staff_a, campaign=world.campaign, member=world.member_a)
    return world


def test_pages_with_behaviour_raise_no_csp_violation(scene, live_server):
    in_browser(lambda p: _tour(p, live_server.url, scene))


def _tour(p, base, w):

    # Public pages, without logging in.
    for url in (f"{base}/public/", f"{base}/public/orgs/{w.branch_a.pk}/",
                f"{base}/public/commitments/{w.rated.pk}/", f"{base}/public/orgs/{w.branch_a.pk}/suggest/"):
        visit(p, url)
        assert violations(p) == [], url
    # Rate (a form posted to 'self', then the redirect back).
    visit(p, f"{base}/public/commitments/{w.rated.pk}/")
    p.locator("label[for=rating-satisfied]").click()
    p.locator("#rating button[type=submit], #rating input[type=submit]").first.click()
    p.wait_for_load_state("load")
    assert violations(p) == []

    # Internal pages.
    log_in(p, base, "city_secretary", PASSWORD)
    assert violations(p) == []
    visit(p, f"{base}/coverage/?org={w.committee.pk}")
    chart = p.locator('[data-chart="members"]')
    chart.wait_for(state="visible")
    p.locator('[data-chart="members"] svg').first.wait_for()
    assert violations(p) == [], "drawing the charts"
    # The tooltip is HTML that ECharts writes: hovering the bars draws it.
    box = chart.bounding_box()
    for dx in (0.3, 0.5, 0.7):
        p.mouse.move(box["x"] + box["width"] * dx, box["y"] + box["height"] * 0.5)
        p.wait_for_timeout(150)
    # The tooltip was drawn (inside the SVG, as text).
    p.wait_for_function("""() => [...document.querySelectorAll('[data-chart="members"] svg text')]
                                   .some(t => t.textContent.includes("（共"))""")
    assert violations(p) == []
    # The navigation's dropdown (Bootstrap JS).
    p.locator(".navbar .dropdown-toggle").first.click()
    assert violations(p) == []

    visit(p, f"{base}/")
    assert violations(p) == []

    p.context.clear_cookies()
    log_in(p, base, "staff_a", PASSWORD)
    visit(p, f"{base}/commitments/{w.draft.pk}/edit/")
    p.locator("#main form").first.wait_for()
    assert violations(p) == []
    visit(p, f"{base}/commitments/{w.rated.pk}/")
    assert violations(p) == []


def test_the_recorder_sees_a_violation_when_there_is_one(live_server, transactional_db):
    """The check can fail: an inline script on a page under the same policy is reported."""
    in_browser(lambda p: _inject_inline_script(p, live_server.url))


def _inject_inline_script(p, base):
    visit(p, f"{base}/accounts/login/")
    p.evaluate("""() => {
        const s = document.createElement("script");
        s.textContent = "window.__ran = true;";
        document.body.appendChild(s);
    }""")
    p.wait_for_timeout(200)
    assert p.evaluate("window.__ran === undefined")
    assert any("script-src" in v for v in violations(p))
