"""承诺台账: every commitment of a subtree in one campaign, as an Excel ledger.

Rows are read in chunks of CHUNK commitments, each chunk with a fixed number of queries
(versions, decisions, publications, progress, 评诺 summaries), and streamed into a write-only
workbook, so a city-wide ledger needs neither a query per row nor the whole table in memory.
"""
import datetime
from collections.abc import Iterator

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from commitments.models import (LIVE_STATUSES, Campaign, Commitment, CommitmentVersion, Item, ItemProgress,
                                ProgressEntry, Publication, ReviewDecision)
from commitments.selectors import item_progress_status
from core.templatetags.cn import cn_date
from core.xlsx import Column, write_xlsx
from evaluations.selectors import summaries_for
from orgs import audit
from orgs.models import Organisation
from orgs.permissions import can_view_org
from orgs.selectors import under_any

CHUNK = 500

COLUMNS = [
    Column("序号", 6, "int"),
    Column("所属党组织", 24, wrap=True),
    Column("承诺主体", 14),
    Column("类型", 10),
    Column("目标", 30, wrap=True),
    Column("承诺事项及完成时限", 60, wrap=True),
    Column("最晚完成时限", 14, "date"),
    Column("状态", 10),
    Column("审定意见", 30, wrap=True),
    Column("公开日期", 14, "date"),
    Column("践诺进展", 18),
    Column("综合评定", 10),
    Column("综合得分", 10, "float"),
    Column("群众满意率", 12, "percent"),
]


def _commitments(org: Organisation, campaign: Campaign):
    owner_in = under_any([org.path], "organisation__path") | under_any([org.path], "member__branch__path")
    return (Commitment.objects.filter(owner_in, campaign=campaign, status__in=LIVE_STATUSES)
            .select_related("campaign", "organisation", "organisation__parent", "member", "member__branch",
                            "public_version")
            .order_by("reviewer_org__path", "organisation__path", "member__name", "id"))


def _snapshots(chunk: list[Commitment]) -> dict[int, dict]:
    """The text each row shows: the public version, else the latest submitted one, else the draft."""
    out = {c.pk: c.public_version.snapshot for c in chunk if c.public_version_id}
    rest = [c.pk for c in chunk if c.pk not in out]
    for v in CommitmentVersion.objects.filter(commitment_id__in=rest).order_by("commitment_id", "number"):
        out[v.commitment_id] = v.snapshot  # the last one wins
    drafts = [c for c in chunk if c.pk not in out]
    if drafts:
        items: dict[int, list] = {}
        for i in Item.objects.filter(commitment_id__in=[c.pk for c in drafts], removed_at__isnull=True).order_by(
                "position", "id"):
            items.setdefault(i.commitment_id, []).append(
                {"id": i.pk, "content": i.content, "deadline": i.deadline.isoformat()})
        for c in drafts:
            out[c.pk] = {"goal": c.goal, "items": items.get(c.pk, [])}
    return out


def _latest_opinions(chunk: list[Commitment]) -> dict[int, str]:
    out = {}
    for d in (ReviewDecision.objects.filter(commitment_id__in=[c.pk for c in chunk])
              .order_by("commitment_id", "decided_at", "id").only("commitment_id", "opinion")):
        out[d.commitment_id] = d.opinion
    return out


def _published_on(chunk: list[Commitment]) -> dict[int, datetime.date]:
    return {row["commitment_id"]: row["first"] for row in
            Publication.objects.filter(commitment_id__in=[c.pk for c in chunk]).values("commitment_id")
            .annotate(first=Min("published_on")).order_by()}


def _progress(chunk: list[Commitment], snapshots: dict[int, dict], today: datetime.date) -> dict[int, str]:
    published = [c for c in chunk if c.public_version_id]
    facts = {r["item_id"]: r for r in ProgressEntry.objects.filter(commitment__in=published).values("item_id")
             .annotate(n=Count("id"), done=Count("id", filter=Q(completes_item=True))).order_by()}
    out = {}
    for c in published:
        counts = {s: 0 for s in ItemProgress.values}
        items = snapshots[c.pk].get("items", [])
        for item in items:
            f = facts.get(item["id"], {"n": 0, "done": 0})
            counts[item_progress_status(deadline=datetime.date.fromisoformat(item["deadline"]), entries=f["n"],
                                        completed=f["done"] > 0, today=today)] += 1
        text = f"已完成{counts[ItemProgress.DONE]}/{len(items)}"
        if counts[ItemProgress.OVERDUE]:
            text += f"，逾期{counts[ItemProgress.OVERDUE]}"
        out[c.pk] = text
    return out


def _items_text(snapshot: dict) -> tuple[str, datetime.date | None]:
    lines, last = [], None
    for n, item in enumerate(snapshot.get("items", []), start=1):
        deadline = datetime.date.fromisoformat(item["deadline"]) if item.get("deadline") else None
        if deadline and (last is None or deadline > last):
            last = deadline
        lines.append(f"{n}. {item.get('content', '')}" + (f"（{cn_date(deadline)}前）" if deadline else ""))
    return "\n".join(lines), last


def ledger_rows(org: Organisation, campaign: Campaign, *, today: datetime.date | None = None) -> Iterator[list]:
    """The ledger's rows, in tree order, chunk by chunk."""
    today = today or timezone.localdate()
    qs = _commitments(org, campaign)
    number = 0
    ids = list(qs.values_list("pk", flat=True))
    for start in range(0, len(ids), CHUNK):
        wanted = ids[start:start + CHUNK]
        by_pk = {c.pk: c for c in qs.filter(pk__in=wanted)}
        chunk = [by_pk[pk] for pk in wanted if pk in by_pk]
        snapshots = _snapshots(chunk)
        opinions, published_on = _latest_opinions(chunk), _published_on(chunk)
        progress = _progress(chunk, snapshots, today)
        summaries = summaries_for([c for c in chunk if c.public_version_id], today=today)
        for c in chunk:
            number += 1
            items, last = _items_text(snapshots[c.pk])
            s = summaries.get(c.pk)
            v = s.verdict if s else None
            # A member's branch; for an organisation's commitment, the organisation above it.
            owner_org = c.member.branch if c.member_id else (c.organisation.parent or c.organisation)
            yield [number, owner_org.name, c.owner_name, "党员" if c.member_id else "党组织",
                   snapshots[c.pk].get("goal", ""), items, last, c.get_status_display(), opinions.get(c.pk, ""),
                   published_on.get(c.pk), progress.get(c.pk, ""),
                   (v.result_label if v and v.result else ""), (v.score if v else None),
                   (v.satisfaction_rate if v else None)]


@transaction.atomic
def ledger_heading(org: Organisation, campaign: Campaign) -> str:
    """The workbook's title row: 某党支部2010年创先争优公开承诺台账 (not "…公开承诺承诺台账" when the
    campaign's name already ends in 承诺)."""
    return f"{org.name}{campaign.name}{'台账' if campaign.name.endswith('承诺') else '承诺台账'}"


def ledger_export(*, actor, org: Organisation, campaign: Campaign, today: datetime.date | None = None):
    """Readers of the organisation download its subtree's ledger; the download is audited."""
    if not can_view_org(actor, org):
        raise PermissionDenied
    today = today or timezone.localdate()
    handle = write_xlsx(title=ledger_heading(org, campaign), subtitle=f"导出日期：{cn_date(today)}",
                        columns=COLUMNS, rows=ledger_rows(org, campaign, today=today), sheet_name="承诺台账")
    audit.record(actor=actor, action="ledger.export", obj=org, organisation=org,
                 detail={"campaign": campaign.year, "kind": "commitments"})
    return handle
