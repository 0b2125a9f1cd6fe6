"""A consistent dataset of any size for benchmarks: `manage.py seed_scale --members N`.

A realistic tree (about one organisation per 20 members, 4–6 levels: 工委 → 党委 → [党委] →
党总支 → 党支部), its members, officers with log-in accounts, one campaign, and for every
organisation and member a commitment in one of the five states with its items, frozen versions,
review decisions, publications, progress entries, ballots, meeting tallies and assessments —
the same shapes the services write, so every page reads them as it reads real data.

Rows are generated in Python with their primary keys chosen up front (so a version's snapshot can
name its items' ids without a round trip) and written in large batches: COPY on PostgreSQL,
executemany INSERTs on SQLite. Memory stays bounded: rows are flushed every `CHUNK` rows and
generated one committee at a time. Sequences are reset at the end on PostgreSQL.
"""
import datetime
import json
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from commitments.models import (Campaign, Commitment, CommitmentStatus, CommitmentVersion, Exemption, Item,
                                ProgressEntry, Publication, ReviewDecision, StampedScan)
from evaluations.models import Assessment, Ballot, Evaluation, Fulfilment, Grade, MeetingTally, Rating
from orgs.models import (Gender, Member, MemberCategory, MemberStatus, Organisation, OrgKind, Role, RoleGrant,
                         path_segment)

User = get_user_model()
CHUNK = 20_000
PASSWORD = "Scale@2010"
TIERS = {"city": 20_000, "province": 1_000_000}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红建华文志国海波辉鹏飞斌宇浩凯婷雪梅琳晨阳欣怡佳颖子涵俊杰思远嘉诚"
BUREAUS = ["发展和改革局", "教育局", "科技工业和信息化局", "公安局", "民政局", "司法局", "财政局", "人力资源和社会保障局",
           "自然资源局", "生态环境局", "住房和城乡建设局", "交通运输局", "水务局", "农业农村局", "商务局", "文化广电旅游体育局",
           "卫生健康局", "应急管理局", "审计局", "国有资产监督管理委员会", "市场监督管理局", "统计局", "医疗保障局", "城市管理和综合执法局"]
UNITS = ["办公室", "综合科", "规划科", "法规科", "财务科", "人事科", "监督科", "信息中心", "服务中心", "执法大队", "事务中心",
         "宣传科", "政策研究室", "项目科", "审批科"]
ORG_ITEMS = [
    ("开展“我为群众办实事”实践活动，解决群众反映强烈的急难愁盼问题", "建立问题清单、责任清单，每季度通报办理进度"),
    ("落实“三会一课”制度，提高组织生活质量", "每月固定主题党日，支委会每月至少召开一次"),
    ("优化政务服务流程，压缩办事时限三分之一", "梳理事项清单，推行一窗受理、限时办结"),
    ("结对帮扶困难社区，每名党员至少联系一户困难群众", "建立联系台账，每季度上门走访"),
    ("加强党员教育管理，组织专题学习不少于十次", "制定学习计划，开展学习交流和知识测试"),
]
MEMBER_ITEMS = [
    ("立足岗位建功立业，按时高质量完成本职工作", "严格落实首问责任制，做到当日事当日毕"),
    ("参加志愿服务活动不少于二十小时", "每季度参加一次社区志愿服务"),
    ("认真学习党的理论，撰写学习心得四篇", "每季度读一本书，撰写一篇心得"),
    ("联系服务群众，帮助解决实际困难", "每月走访联系户，及时反映群众诉求"),
    ("带头遵守廉洁纪律，自觉接受群众监督", "公开承诺事项，定期向支部报告履诺情况"),
]
# State of each commitment: weights for published, approved, submitted, returned, draft, nothing.
STATE_WEIGHTS = [("published", 60), ("approved", 10), ("submitted", 10), ("returned", 5), ("draft", 8),
                 ("none", 7)]


@dataclass
class Stats:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, label: str, n: int) -> None:
        self.rows[label] = self.rows.get(label, 0) + n


class Sink:
    """Rows of one model, written in chunks: COPY on PostgreSQL, bulk INSERT elsewhere."""

    def __init__(self, model, stats: Stats, chunk: int = CHUNK):
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields]
        self.columns = [f.column for f in self.fields]
        self.rows: list[tuple] = []
        self.stats = stats
        self.chunk = chunk
        self.next_id = (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1 \
            if model._meta.pk.get_internal_type() in ("AutoField", "BigAutoField") else None

    def take_id(self) -> int:
        pk = self.next_id
        self.next_id += 1
        return pk

    def add(self, **values) -> int:
        """One row from field attnames → values; missing fields take their defaults."""
        row = []
        for f in self.fields:
            if f.attname in values:
                value = values[f.attname]
            elif f.primary_key and self.next_id is not None:
                value = values["id"] = self.take_id()
            elif f.has_default():
                value = f.get_default()
            elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = NOW
            elif f.null:
                value = None
            else:
                value = ""
            row.append(value)
        self.rows.append(tuple(row))
        if len(self.rows) >= self.chunk:
            self.flush()
        return values.get(self.model._meta.pk.attname)

    def flush(self) -> None:
        if not self.rows:
            return
        table = self.model._meta.db_table
        if connection.vendor == "postgresql":
            cols = ", ".join(connection.ops.quote_name(c) for c in self.columns)
            json_at = [i for i, f in enumerate(self.fields) if isinstance(f, models.JSONField)]
            with connection.cursor() as cursor, cursor.cursor.copy(
                    f"COPY {connection.ops.quote_name(table)} ({cols}) FROM STDIN") as copy:
                for row in self.rows:
                    if json_at:
                        row = list(row)
                        for i in json_at:
                            row[i] = json.dumps(row[i], ensure_ascii=False)
                    copy.write_row(row)
        else:
            prepared = [[f.get_db_prep_save(v, connection) for f, v in zip(self.fields, row)] for row in self.rows]
            cols = ", ".join(connection.ops.quote_name(c) for c in self.columns)
            marks = ", ".join(["%s"] * len(self.columns))
            with connection.cursor() as cursor:
                cursor.executemany(f"INSERT INTO {connection.ops.quote_name(table)} ({cols}) VALUES ({marks})",
                                   prepared)
        self.stats.add(self.model._meta.label, len(self.rows))
        self.rows = []


NOW = timezone.now()


def _name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
    return rng.choice(SURNAMES) + given


def _date(rng: random.Random, start: int, end: int) -> datetime.date:
    return datetime.date(rng.randint(start, end), rng.randint(1, 12), 1)


def plan_tree(members: int, rng: random.Random) -> list[int]:
    """How many members each branch gets (15–30, mean ~21): one organisation per ~20 members."""
    sizes = []
    left = members
    while left > 0:
        size = min(left, rng.randint(12, 30))
        sizes.append(size)
        left -= size
    return sizes


def _group(seq: list, low: int, high: int, rng: random.Random) -> Iterator[list]:
    i = 0
    while i < len(seq):
        n = rng.randint(low, high)
        yield seq[i:i + n]
        i += n


@transaction.atomic
def seed_scale(*, members: int, year: int | None = None, seed: int = 2010, out=print) -> Stats:
    """Build the dataset; returns row counts. Refuses to run twice on the same campaign year."""
    started = time.perf_counter()
    rng = random.Random(seed)
    year = year or timezone.localdate().year
    if Campaign.objects.filter(year=year).exists():
        raise ValueError(f"{year}年度已有数据：seed_scale 只在空库或新年度上运行（可用 --year 指定其他年度）。")
    stats = Stats()
    Campaign.objects.filter(is_current=True).update(is_current=False)
    campaign = Campaign.objects.create(
        name=f"{year}年创先争优公开承诺", year=year, pledge_deadline=datetime.date(year, 9, 30),
        publish_deadline=datetime.date(year, 10, 31), evaluation_deadline=datetime.date(year, 12, 31),
        evaluation_opens=datetime.date(year, 11, 1), is_current=True)
    password = make_password(PASSWORD)
    sinks = {m: Sink(m, stats) for m in (Organisation, Member, User, RoleGrant, Commitment, Item, CommitmentVersion,
                                         ReviewDecision, Publication, StampedScan, ProgressEntry, Ballot, MeetingTally,
                                         Assessment, Evaluation, Exemption)}
    gen = _Generator(rng, campaign, sinks, password, year)
    gen.build(plan_tree(members, rng), out)
    for sink in sinks.values():
        sink.flush()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for sql in connection.ops.sequence_reset_sql(no_style(), list(sinks)):
                cursor.execute(sql)
        # Fresh statistics: without them the planner guesses from an empty table (autovacuum may be
        # off, or not have run yet) and picks nested loops over a million rows.
        for model in sinks:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    stats.seconds = time.perf_counter() - started
    return stats


class _Generator:
    def __init__(self, rng, campaign, sinks, password, year):
        self.rng, self.campaign, self.s, self.password, self.year = rng, campaign, sinks, password, year
        self.code_seq = 0
        self.tag = uuid.uuid4().hex[:4].upper()

    # --- tree ---------------------------------------------------------------------------

    def org(self, parent: dict | None, name: str, kind: str, sort: int = 0) -> dict:
        pk = self.s[Organisation].take_id()
        path = (parent["path"] if parent else "") + path_segment(pk)
        self.code_seq += 1
        self.s[Organisation].add(
            id=pk, code=f"S{self.tag}{self.code_seq:07d}", name=name, short_name="", kind=kind,
            parent_id=parent["id"] if parent else None, path=path, depth=path.count("/") - 1, sort_order=sort,
            supervision_phone=f"0756-{self.rng.randint(2100000, 2999999)}", is_active=True, version=1,
            created_at=NOW, updated_at=NOW)
        return {"id": pk, "path": path, "name": name, "kind": kind, "parent": parent}

    def user(self, username: str, full_name: str, org: dict, role: str, member_id: int | None = None) -> int:
        pk = self.s[User].add(username=username, password=self.password, last_name=full_name, first_name="",
                              email="", is_active=True, is_staff=False, is_superuser=False, date_joined=NOW,
                              last_login=None)
        self.s[RoleGrant].add(user_id=pk, organisation_id=org["id"], role=role, granted_by_id=None, created_at=NOW)
        return pk

    def build(self, branch_sizes: list[int], out) -> None:
        rng = self.rng
        root = self.org(None, f"中共规模测试{self.tag}市直属机关工作委员会", OrgKind.WORK_COMMITTEE)
        self.root = root
        self.root_user = self.user(f"scale_root_{self.tag.lower()}", "工委书记", root, Role.SECRETARY)
        self.user(f"scale_admin_{self.tag.lower()}", "系统管理员", root, Role.ADMIN)
        # Branches → general branches (3–8) → committees (3–10); every third committee sits under
        # a parent committee (one level deeper), and some branches hang directly off a committee.
        groups = list(_group(branch_sizes, 3, 8, rng))
        committees = list(_group(groups, 3, 10, rng))
        n_committees = len(committees)
        out(f"  组织：约{len(branch_sizes) + len(groups) + n_committees + 1}个（{len(branch_sizes)}个党支部），"
            f"党员{sum(branch_sizes)}名")
        parent_committee = None
        for ci, committee_groups in enumerate(committees):
            bureau = BUREAUS[ci % len(BUREAUS)] + (f"（{ci // len(BUREAUS) + 1}）" if ci >= len(BUREAUS) else "")
            if ci % 3 == 2 and parent_committee is not None:
                parent = parent_committee
            else:
                parent = root
            committee = self.org(parent, f"中共{bureau}委员会", OrgKind.COMMITTEE, ci)
            if parent is root:
                parent_committee = committee
            self.user(f"scale_c{committee['id']}", _name(rng), committee, Role.SECRETARY)
            self.commitment_for_org(committee, reviewer=parent)
            for gi, sizes in enumerate(committee_groups):
                direct = gi == 0 and len(sizes) <= 4  # a small group hangs straight off the committee
                holder = committee if direct else self.org(committee, f"{bureau}第{gi + 1}党总支",
                                                          OrgKind.GENERAL_BRANCH, gi)
                if holder is not committee:
                    self.commitment_for_org(holder, reviewer=committee)
                for bi, size in enumerate(sizes):
                    unit = UNITS[(gi * 7 + bi) % len(UNITS)]
                    branch = self.org(holder, f"{bureau}{unit}第{gi + 1}-{bi + 1}党支部", OrgKind.BRANCH, bi)
                    self.branch(branch, holder, size)

    def branch(self, branch: dict, reviewer: dict, size: int) -> None:
        rng = self.rng
        secretary = staff = None
        members = []
        for n in range(size):
            category = rng.choices([MemberCategory.LEADER, MemberCategory.GENERAL, MemberCategory.ELDERLY,
                                    MemberCategory.RETIRED], [5, 75, 10, 10])[0]
            born = _date(rng, 1940 if category == MemberCategory.RETIRED else 1960,
                         1960 if category == MemberCategory.RETIRED else 2000)
            pk = self.s[Member].add(
                name=_name(rng), gender=rng.choice([Gender.MALE, Gender.FEMALE]), birth_month=born,
                post=rng.choice(["科员", "副科长", "科长", "工程师", "教师", "医生", "退休干部"]),
                joined_party_on=datetime.date(min(born.year + rng.randint(20, 35), self.year - 1),
                                              rng.randint(1, 12), 1),
                branch_id=branch["id"], phone=f"13{rng.randint(100000000, 999999999)}", category=category,
                status=MemberStatus.ACTIVE, user_id=None, note="", version=1, created_at=NOW, updated_at=NOW)
            members.append((pk, category))
        secretary = self.user(f"scale_b{branch['id']}", _name(rng), branch, Role.SECRETARY)
        staff = self.user(f"scale_s{branch['id']}", _name(rng), branch, Role.STAFF)
        self.commitment_for_org(branch, reviewer=reviewer, author=staff, reviewer_user=self.root_user)
        for pk, category in members:
            if rng.random() < 0.03:
                kind = rng.choice([Exemption.Kind.EXEMPT, Exemption.Kind.DEFER])
                self.s[Exemption].add(member_id=pk, campaign_id=self.campaign.pk, kind=kind, reason="长期外出学习",
                                      makeup_due=datetime.date(self.year, 11, 30) if kind == "defer" else None,
                                      made_up_on=None, decided_by_id=secretary, created_at=NOW)
                continue
            self.commitment(member_id=pk, owner_path=branch["path"], reviewer=branch, author=staff,
                            reviewer_user=secretary,
                            oral=category in (MemberCategory.ELDERLY, MemberCategory.RETIRED) and rng.random() < 0.5,
                            leader=category == MemberCategory.LEADER)

    # --- commitments ----------------------------------------------------------------------

    def commitment_for_org(self, org: dict, reviewer: dict, author: int | None = None,
                           reviewer_user: int | None = None) -> None:
        self.commitment(organisation_id=org["id"], owner_path=org["path"], reviewer=reviewer,
                        author=author or self.root_user,
                        reviewer_user=reviewer_user or self.root_user)

    def commitment(self, *, reviewer: dict, author: int, reviewer_user: int, owner_path: str, organisation_id=None,
                   member_id=None, oral=False, leader=False) -> None:
        rng = self.rng
        state = rng.choices([s for s, _ in STATE_WEIGHTS], [w for _, w in STATE_WEIGHTS])[0]
        if state == "none":
            return
        is_member = member_id is not None
        pool = MEMBER_ITEMS if is_member else ORG_ITEMS
        n_items = 3 if (leader or not is_member) else 2
        submitted = state != "draft"
        versions = 2 if state in ("returned",) or (submitted and rng.random() < 0.1) else (1 if submitted else 0)
        at = timezone.make_aware(datetime.datetime(self.year, rng.randint(3, 9), rng.randint(1, 28), 10))
        cpk = self.s[Commitment].take_id()
        items = []
        for position in range(1, n_items + 1):
            content, measures = rng.choice(pool)
            deadline = datetime.date(self.year, rng.randint(6, 12), 28)
            ipk = self.s[Item].add(commitment_id=cpk, position=position, content=content, measures=measures,
                                   deadline=deadline, responsible="" if is_member else _name(rng),
                                   source_suggestion_id=None, source_reference_id=None, removed_at=None, created_at=at)
            items.append({"id": ipk, "content": content, "measures": measures, "deadline": deadline.isoformat(),
                          "responsible": "", "source": ""})
        goal = "争当优秀共产党员" if is_member else "创建先进基层党组织"
        snapshot = {"goal": goal, "is_oral": oral, "recorder": "", "items": items}
        version_ids = []
        for number in range(1, versions + 1):
            vpk = self.s[CommitmentVersion].add(commitment_id=cpk, number=number, snapshot=snapshot,
                                                submitted_by_id=author, submitted_at=at)
            version_ids.append(vpk)
            last = number == versions
            decision = None
            if not last:
                decision = "return"
            elif state in ("approved", "published"):
                decision = "approve"
            elif state == "returned":
                decision = "return"
            if decision:
                self.s[ReviewDecision].add(
                    commitment_id=cpk, version_id=vpk, reviewer_id=reviewer_user, reviewer_org_id=reviewer["id"],
                    decision=decision, advanced=True, central_work=True, post_duties=True, public_wishes=True,
                    feasible=decision == "approve", exception_note="",
                    opinion="同意公开。" if decision == "approve" else "请细化完成措施后重新提交。",
                    is_bulk=False, decided_at=at + datetime.timedelta(days=3))
        status = {"published": CommitmentStatus.PUBLISHED, "approved": CommitmentStatus.APPROVED,
                  "submitted": CommitmentStatus.SUBMITTED, "returned": CommitmentStatus.RETURNED,
                  "draft": CommitmentStatus.DRAFT}[state]
        # Foreign keys are checked at commit, so the 评诺 rows may come before the commitment's.
        latest_result = (self.evaluate(cpk, [i["id"] for i in items], author, reviewer, reviewer_user, at)
                         if state == "published" else None)
        self.s[Commitment].add(owner_path=owner_path, latest_result=latest_result,
            id=cpk, campaign_id=self.campaign.pk, organisation_id=organisation_id, member_id=member_id,
            reviewer_org_id=reviewer["id"], status=status, goal=goal, is_oral=oral,
            recorder_id=author if oral else None, version=1 + versions + (1 if state != "submitted" and submitted else 0),
            submitted_count=versions, submitted_at=at if submitted else None,
            last_submitted_by_id=author if submitted else None,
            decided_at=at + datetime.timedelta(days=3) if state in ("approved", "published", "returned") else None,
            # Foreign keys are checked at commit (deferred), so the version may follow in a later batch.
            public_version_id=version_ids[-1] if state == "published" else None,
            online_since=datetime.date(self.year, 10, 20) if state == "published" else None,
            created_by_id=author, created_at=at, updated_at=at)
        if state == "published":
            vpk = version_ids[-1]
            self.s[Publication].add(commitment_id=cpk, version_id=vpk, published_on=datetime.date(self.year, 10, 20),
                                    channels=["meeting", "noticeboard", "internet"], published_by_id=author, created_at=at)
            # Two in three have the stamped form on file (rows only: the files are never opened here).
            # Chosen by id, not by the random generator, so the rest of the data stays as it was.
            if cpk % 3:
                self.s[StampedScan].add(commitment_id=cpk, version_id=vpk, copy="public", path=f"stamped/scale-{cpk}.png",
                                        display_path="", original_name="公示联.png", content_type="image/png",
                                        size=120_000, sha256="0" * 64, pages=None, width=1240, height=1754,
                                        public_display="none", uploaded_by_id=author, uploaded_at=at,
                                        withdrawn_at=None, withdrawn_by_id=None, withdraw_reason="", revision=1)

    def evaluate(self, cpk: int, item_ids: list[int], author: int, reviewer: dict, reviewer_user: int,
                 at) -> str | None:
        """Progress, ballots, tallies and perhaps an assessment of a published commitment; the
        assessment's result (Commitment.latest_result) or None."""
        rng = self.rng
        for ipk in item_ids:
            if rng.random() < 0.5:
                self.s[ProgressEntry].add(commitment_id=cpk, item_id=ipk, happened_on=datetime.date(self.year, 11, 5),
                                          done="按计划推进，已完成阶段任务。", effect="群众反映良好。",
                                          completes_item=rng.random() < 0.4, visibility="public", recorded_by_id=author,
                                          created_at=at)
        if rng.random() < 0.3:
            for _ in range(rng.randint(1, 4)):
                self.s[Ballot].add(commitment_id=cpk,
                                   rating=rng.choices([Rating.SATISFIED, Rating.BASIC, Rating.UNSATISFIED], [7, 2, 1])[0],
                                   remark="", rater_hash=uuid.uuid4().hex * 2, client_hash=uuid.uuid4().hex * 2,
                                   created_at=at)
        if rng.random() < 0.05:
            self.s[MeetingTally].add(commitment_id=cpk, held_on=datetime.date(self.year, 11, 20), place="党员活动室",
                                     attendees=35, expected=40, mass_representatives=40,
                                     satisfied=rng.randint(15, 25), basic=rng.randint(0, 5),
                                     unsatisfied=rng.randint(0, 3), recorded_by_id=author, created_at=at,
                                     voided_at=None, voided_by_id=None, void_reason="")
        if rng.random() < 0.2:
            result = rng.choices([Fulfilment.FULFILLED, Fulfilment.PARTLY, Fulfilment.UNFULFILLED], [7, 2, 1])[0]
            self.s[Assessment].add(commitment_id=cpk, result=result,
                                   grade={Fulfilment.FULFILLED: Grade.EXCELLENT, Fulfilment.PARTLY: Grade.GOOD}.get(
                                       result, Grade.POOR),
                                   reason="对照承诺事项逐项考核。", assessor_org_id=reviewer["id"],
                                   assessed_by_id=reviewer_user, assessed_at=at)
            self.s[Evaluation].add(commitment_id=cpk, version=2, released_at=None, released_by_id=None)
            return result
        return None


def tier_members(value: str) -> int:
    """'city' / 'province' / a number."""
    if value in TIERS:
        return TIERS[value]
    number = int(value)
    if number < 20:
        raise ValueError("members must be at least 20")
    return number

