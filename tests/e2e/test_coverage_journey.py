"""全面覆盖 in the browser: branch A's officer imports a small roster, finds the new members
among the blank spots (空白点) of the coverage dashboard, and downloads the 承诺台账."""
import io

import openpyxl
import pytest
from playwright.sync_api import expect

from orgs.models import Member
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in, shot

pytestmark = pytest.mark.e2e

NEW = ["周晓梅", "吴建国", "郑海燕"]


def _roster(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "党员名册"
    ws.append(["第一党支部党员名册"])
    ws.append(["姓名", "性别", "出生日期", "入党时间", "所在党支部", "手机号码"])
    ws.append([NEW[0], "女", "1980.05", "2005-07-01", "第一党支部", "13800000001"])
    ws.append([NEW[1], "男", "1972年3月", "1996年7月1日", "第一党支部", "13800000002"])
    ws.append([NEW[2], "女", "1988-11", "2012.06", "第一党支部", "13800000003"])
    wb.save(path)


def test_import_roster_find_blank_spots_and_download_ledger(world, live_server, page, tmp_path):
    base = live_server.url
    roster = tmp_path / "第一党支部名册.xlsx"
    _roster(roster)

    log_in(page, base, "staff_a", PASSWORD)
    page.goto(f"{base}/members/?org={world.branch_a.pk}")
    shot(page, "coverage-01-member-list")
    page.get_by_role("link", name="导入名册").click()
    page.get_by_label("名册文件").set_input_files(str(roster))
    shot(page, "coverage-02-upload")
    page.get_by_role("button", name="上传并预览").click()

    # The preview: three new members, nothing written yet.
    page.get_by_role("heading", name="导入预览").wait_for()
    counts = page.get_by_role("list", name="导入结果统计")
    assert counts.get_by_role("listitem").first.inner_text().split() == ["新增", "3"]
    assert not Member.objects.filter(name__in=NEW).exists()
    shot(page, "coverage-03-preview")
    page.get_by_role("button", name="确认导入").click()
    page.get_by_text("名册已导入：新增3名").wait_for()
    assert Member.objects.filter(name__in=NEW, branch=world.branch_a).count() == 3
    shot(page, "coverage-04-imported")

    # The coverage dashboard: 李娜, 王堃 and the three new members are blank spots.
    page.goto(f"{base}/coverage/?org={world.branch_a.pk}")
    blank = page.get_by_role("link", name="空白点党员：5")
    blank.wait_for()
    shot(page, "coverage-05-dashboard")
    blank.click()
    page.get_by_role("heading", name="空白点").wait_for()
    rows = page.locator("table tbody tr")
    for name in NEW:
        row = rows.filter(has=page.get_by_role("link", name=name, exact=True))
        expect(row).to_have_count(1)
        assert "空白点" in row.inner_text()
    shot(page, "coverage-06-blank-spots")

    # Back on the dashboard, the 承诺台账 download.
    page.go_back()
    link = page.get_by_role("link", name="导出承诺台账")
    href = link.get_attribute("href")
    response = page.request.get(base + href if href.startswith("/") else href)
    assert response.ok
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = openpyxl.load_workbook(io.BytesIO(response.body()))
    assert wb.active["A1"].value == "第一党支部2010年创先争优公开承诺台账"
    shot(page, "coverage-07-dashboard-ledger")
