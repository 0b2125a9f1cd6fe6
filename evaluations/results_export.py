"""评诺结果 export: the rows of the evaluation list (every page, the same filters) as an Excel
workbook — owner, kind, organisation, the three voices, the verdict, rectification and release.

Rows are read in chunks of CHUNK commitments, each chunk with a fixed number of queries (the
commitments, then summaries_for), and streamed into a write-only workbook. While the public
window is open only the number of votes is written; the 满意率 appears once it has closed
(Summary.verdict withholds it before).
"""
import datetime
from collections.abc import Iterator

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from core.templatetags.cn import cn_date
from core.xlsx import Column, write_xlsx
from orgs import audit
from orgs.models import Organisation
from orgs.permissions import READER_ROLES, can_view_org, scope_for

from . import selectors
from .models import Fulfilment, Grade, Rating

CHUNK = 500
RATING_LABELS = dict(Rating.choices)
RESULT_LABELS = dict(Fulfilment.choices)
GRADE_LABELS = dict(Grade.choices)
WINDOW_LABELS = {"before": "群众评议未开始", "open": "群众评议进行中", "closed": "群众评议已结束"}
KIND_LABELS = {"org": "党组织承诺", "member": "党员承诺"}

COLUMNS = [
    Column("序号", 6, "int"),
    Column("承诺主体", 16),
    Column("类型", 11),
    Column("所属党组织", 24, wrap=True),
    Column("审核党组织", 24, wrap=True),
    Column("领导点评（条）", 10, "int"),
    Column("领导点评", 20, wrap=True),
    Column("群众评议票数", 10, "int"),
    Column("群众满意率", 11, "percent"),
    Column("组织考核结果", 12),
    Column("考核等次", 10),
    Column("综合得分", 10, "float"),
    Column("综合评定", 10),
    Column("评诺状态", 12),
    Column("整改情况", 24, wrap=True),
    Column("公布", 8),
]


def _rectification(summary, today: datetime.date) -> str:
    order = summary.open_order
    if order is None:
        return ""
    text = f"{order.get_status_display()}，期限{cn_date(order.deadline)}"
    if order.interim_basis:
        text += "，依据评议期间的阶段性满意率"
    return text + ("（已逾期）" if order.is_overdue(today) else "")


def results_rows(user, *, campaign, org: Organisation | None = None, kind: str = "", state: str = "",
                 q: str = "", today: datetime.date | None = None) -> Iterator[list]:
    """The evaluation list's rows (selectors.evaluation_list_for), in its order, chunk by chunk."""
    today = today or timezone.localdate()
    window = campaign.rating_state(today)
    qs = selectors.evaluation_list_for(user, campaign=campaign, org=org, kind=kind, state=state, q=q)
    ids = list(qs.values_list("pk", flat=True))
    number = 0
    for start in range(0, len(ids), CHUNK):
        wanted = ids[start:start + CHUNK]
        by_pk = {c.pk: c for c in qs.filter(pk__in=wanted)}
        chunk = [by_pk[pk] for pk in wanted if pk in by_pk]
        summaries = selectors.summaries_for(chunk, today=today)
        for c in chunk:
            number += 1
            s = summaries[c.pk]
            v = s.verdict
            owner_org = c.member.branch if c.member_id else (c.organisation.parent or c.organisation)
            a = s.assessment
            yield [number, c.owner_name, KIND_LABELS["member" if c.member_id else "org"], owner_org.name,
                   c.reviewer_org.name if c.reviewer_org_id else "",
                   len(s.leader_ratings), "、".join(RATING_LABELS.get(r, r) for r in s.leader_ratings),
                   s.tally.total if window != "before" else None,
                   v.satisfaction_rate if window == "closed" else None,
                   RESULT_LABELS.get(a.result, a.result) if a else "待考核",
                   GRADE_LABELS.get(a.grade, a.grade) if a and a.grade else "",
                   v.score, v.result_label, s.state_label, _rectification(s, today),
                   "已公布" if s.is_released else "未公布"]


@transaction.atomic
def results_export(*, actor, campaign, org: Organisation | None = None, kind: str = "", state: str = "",
                   q: str = "", today: datetime.date | None = None):
    """Readers download the evaluation results of their scope (or of `org`); the download is audited."""
    if org is not None and not can_view_org(actor, org):
        raise PermissionDenied
    if org is None and not scope_for(actor).has_any(READER_ROLES):
        raise PermissionDenied
    today = today or timezone.localdate()
    where = org.name if org is not None else "本人负责范围"
    filters = [label for label in (KIND_LABELS.get(kind), selectors.STATES.get(state, ("",))[0],
                                   f"名称含“{q}”" if q else "") if label]
    subtitle = (f"导出日期：{cn_date(today)}；{WINDOW_LABELS[campaign.rating_state(today)]}"
                + (f"；筛选：{'、'.join(filters)}" if filters else ""))
    handle = write_xlsx(title=f"{where}{campaign.name}评诺结果", subtitle=subtitle, columns=COLUMNS,
                        rows=results_rows(actor, campaign=campaign, org=org, kind=kind, state=state, q=q,
                                          today=today),
                        sheet_name="评诺结果")
    audit.record(actor=actor, action="evaluations.results_export", obj=org, organisation=org,
                 detail={"campaign": campaign.year, "kind": kind, "state": state, "q": q})
    return handle
