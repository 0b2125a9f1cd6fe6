"""评选表彰依据 (四（五）: 评诺结果作为评选表彰的重要依据) as an Excel workbook.

The workbook lists the released results under an organisation, ranked as on the awards page:
a title row, the date it was made, a header row that stays in view, one row per commitment,
with scores, rates and votes stored as numbers so they can be sorted and summed. Exporting is
an audited event: who took which list out of the system is asked after.
"""
import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from core.templatetags.cn import cn_date
from core.xlsx import Column, write_xlsx
from orgs import audit
from orgs.models import Organisation

from .permissions import can_view_awards
from .selectors import AwardRow, awards_for

KIND_LABELS = {"org": "党组织", "member": "党员"}
# (header, width in characters) per kind; the numbers' columns are the same for both.
COLUMNS = {
    "org": [("名次", 6), ("党组织名称", 34), ("上级党组织", 30)],
    "member": [("名次", 6), ("党员姓名", 12), ("所在党支部", 30)],
}
NUMBER_COLUMNS = [("综合得分", 10), ("综合评定", 10), ("群众满意率（%）", 15), ("评议票数", 10), ("考核结果", 10),
                  ("考核等次", 10)]
NUMBER_KINDS = ["float", "text", "float", "int", "text", "text"]


def awards_title(org: Organisation, campaign, kind: str) -> str:
    return f"{org.name}{campaign.name}评选表彰依据（{KIND_LABELS[kind]}）"


def awards_filename(org: Organisation, campaign, kind: str) -> str:
    return f"评选表彰依据-{org.name}-{KIND_LABELS[kind]}-{campaign.year}年.xlsx"


def _row_values(row: AwardRow, kind: str) -> list:
    c, s = row.commitment, row.summary
    v = s.verdict
    if kind == "member":
        name, where = c.member.name, c.member.branch.name
    else:
        name, where = c.organisation.name, c.organisation.parent.name if c.organisation.parent_id else ""
    return [row.rank, name, where, v.score, v.result_label, v.satisfaction_rate, v.votes,
            s.assessment.get_result_display() if s.assessment else "",
            s.assessment.get_grade_display() if s.assessment else ""]


def awards_workbook(*, org: Organisation, campaign, kind: str, rows: list[AwardRow], today: datetime.date,
                    unreleased: int = 0):
    """The ranked list as a one-sheet workbook (an open file; no queries: `rows` carry what it
    shows). Written by core.xlsx, so names that look like formulas stay text."""
    columns = [Column(header, width) for header, width in COLUMNS[kind]]
    columns[0] = Column(columns[0].header, columns[0].width, "int")
    columns += [Column(header, width, kind) for (header, width), kind in zip(NUMBER_COLUMNS, NUMBER_KINDS,
                                                                            strict=True)]
    note = f"生成日期：{cn_date(today)}　仅含已公布评议结果的承诺，按综合得分、考核等次、群众满意率排序。"
    if unreleased:
        note += f"另有{unreleased}份已公开的承诺尚未公布评议结果，未列入本表。"
    return write_xlsx(title=awards_title(org, campaign, kind), subtitle=note, columns=columns,
                      rows=(_row_values(row, kind) for row in rows), sheet_name=f"{KIND_LABELS[kind]}评选表彰依据")


def awards_export(*, actor, org: Organisation, campaign, kind: str, unreleased: int = 0,
                  today: datetime.date | None = None) -> tuple[bytes, str]:
    """Readers of the organisation export its awards basis; one audit row per export.
    Returns the .xlsx bytes and the (Chinese) file name."""
    today = today or timezone.localdate()
    if kind not in KIND_LABELS:
        raise ValueError(kind)
    with transaction.atomic():
        if not can_view_awards(actor, org):
            raise PermissionDenied
        rows = awards_for(org, campaign, kind=kind, today=today)
        handle = awards_workbook(org=org, campaign=campaign, kind=kind, rows=rows, today=today,
                                 unreleased=unreleased)
        audit.record(actor=actor, action="evaluation.awards_export", organisation=org,
                     detail={"kind": kind, "campaign": campaign.year, "rows": len(rows)})
    return handle.read(), awards_filename(org, campaign, kind)
