"""覆盖情况报表: the coverage dashboard's per-child figures and the blank-spot members (空白点)
of a subtree in one campaign, as one Excel workbook with two sheets.

Both sheets count as the dashboard does (coverage's module docstring, the page's 统计口径说明):
已承诺 is a submitted commitment, drafts are blank spots with their state shown.

The figures come from coverage.coverage_for (a fixed number of aggregate queries); the
blank-spot list iterates coverage.member_list in tree order with .iterator(), so neither
grows in queries or memory with the number of members. The list carries name, branch and
category and 党员类型 (正式/预备) only: no phone number, birth month or date of joining the Party.
"""
import datetime
from collections.abc import Iterator

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from commitments.models import Campaign
from core.templatetags.cn import cn_date
from core.xlsx import Column, add_sheet, new_workbook, save_workbook
from orgs import audit
from orgs.models import MemberCategory, MembershipType, Organisation
from orgs.permissions import can_view_org
from portal import coverage

FIGURE_COLUMNS = [
    Column("党组织", 28, wrap=True),
    Column("应承诺党组织", 12, "int"),
    Column("已承诺（已提交）", 11, "int"),
    Column("已公开承诺", 11, "int"),
    Column("未承诺（含草稿）", 10, "int"),
    Column("在册党员", 10, "int"),
    Column("已承诺", 9, "int"),
    Column("免于承诺", 9, "int"),
    Column("延期待补课", 9, "int"),
    Column("空白点", 9, "int"),
    Column("覆盖率", 9, "percent"),
    Column("已公开（党组织和党员）", 12, "int"),
    Column("已归档盖章件", 11, "int"),
    Column("逾期事项", 9, "int"),
    Column("已考核", 9, "int"),
    Column("已兑现", 9, "int"),
    Column("群众满意率", 11, "percent"),
]

BLANK_COLUMNS = [
    Column("序号", 6, "int"),
    Column("姓名", 14),
    Column("所在党支部", 30, wrap=True),
    Column("党员类别", 14),
    Column("党员类型", 10),
    Column("情况", 22),
]


def _figures_row(name: str, f: coverage.Figures, public_counted: bool) -> list:
    return [name, f.orgs_total, f.orgs_committed, f.orgs_published, f.orgs_blank,
            f.members_total, f.members_pledged, f.members_exempt, f.members_deferred, f.members_blank,
            f.members_rate, f.published, f.stamped, f.items_overdue, f.assessed, f.fulfilled,
            f.satisfaction_rate if public_counted else None]


def figure_rows(cov: coverage.Coverage) -> list[list]:
    """The dashboard's per-child table (the organisation's own line first) and a 合计 line."""
    rows = [_figures_row(f"{row.org.name}（本级）" if row.is_self else row.org.name, row.figures,
                         cov.public_counted) for row in cov.rows]
    rows.append(_figures_row("合计", cov.total, cov.public_counted))
    return rows


def blank_spot_rows(org: Organisation, campaign: Campaign, today: datetime.date) -> Iterator[list]:
    """Blank-spot members under org, in tree order, read with one streaming query."""
    categories, kinds = dict(MemberCategory.choices), dict(MembershipType.choices)
    qs = coverage.member_list(org, campaign, state="blank", today=today)
    for number, m in enumerate(qs.iterator(chunk_size=2000), start=1):
        yield [number, m.name, m.branch.name, categories.get(m.category, m.category),
               kinds.get(m.membership, m.membership), coverage.member_state_label(m.state)]


def _window_note(cov: coverage.Coverage) -> str:
    if cov.public_counted:
        return "群众满意率为评议结束后的统计"
    return "群众评议" + ("进行中" if cov.rating_state == "open" else "尚未开始") + "，不统计满意率"


@transaction.atomic
def coverage_export(*, actor, org: Organisation, campaign: Campaign, today: datetime.date | None = None):
    """Readers of the organisation download its subtree's coverage report; the download is audited."""
    if not can_view_org(actor, org):
        raise PermissionDenied
    today = today or timezone.localdate()
    cov = coverage.coverage_for(actor, org, campaign, today=today)
    subtitle = f"统计至：{cn_date(today)}"
    wb = new_workbook()
    add_sheet(wb, sheet_name="覆盖情况", title=f"{org.name}{campaign.name}覆盖情况",
           subtitle=f"{subtitle}；{_window_note(cov)}", columns=FIGURE_COLUMNS, rows=figure_rows(cov))
    add_sheet(wb, sheet_name="空白点党员", title=f"{org.name}{campaign.name}空白点党员名单",
           subtitle=f"{subtitle}；承诺未提交（含草稿未提交）、未经认同免于承诺、补课逾期的在册党员", columns=BLANK_COLUMNS,
           rows=blank_spot_rows(org, campaign, today))
    out = save_workbook(wb)
    audit.record(actor=actor, action="coverage.export", obj=org, organisation=org,
                 detail={"campaign": campaign.year, "kind": "coverage", "blank": cov.total.members_blank})
    return out
