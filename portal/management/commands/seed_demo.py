"""`manage.py seed_demo`: demo data for a city-organs Party tree (珠海市直机关, 2010 style).

Builds the tree 市直机关工委 → 机关党委/党组 → (党总支 →) 党支部 with one 临时党支部, about 600
members with deterministic but realistic records, the current campaign year, and a set of demo
accounts that all share DEMO_PASSWORD. Running it again adds nothing: organisations are keyed on
their code, accounts on their username, and a branch only receives members while it has none.

Everything random comes from one `random.Random(2010)` that is always consumed in full and in
the same order, so every run plans the same people, whatever the database already holds. The
fields added later (党员类型 and 转正时间, month-only 入党时间, 民族, 学历, 籍贯) draw from a second
`random.Random(2011)`, so the people planned before them kept their names, dates and posts.
"""
import datetime
import random
import unicodedata
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from commitments.models import Campaign
from core.templatetags.cn import cn_date
from orgs import audit, services
from orgs.models import (BRANCH_KINDS, DatePrecision, Gender, Member, MemberCategory, MembershipType, MemberStatus,
                         Organisation, OrgKind, Role, RoleGrant)
from portal.demo import seed_commitments

DEMO_PASSWORD = "Demo@2010"
ROOT_CODE = "SZJG"
RANDOM_SEED = 2010
EXTRA_SEED = 2011
# Nobody in the demo joined the Party after the 2010 campaign started.
LATEST_JOIN = datetime.date(2010, 6, 30)

M, F = Gender.MALE, Gender.FEMALE
LEADER, GENERAL = MemberCategory.LEADER, MemberCategory.GENERAL
ELDERLY, RETIRED = MemberCategory.ELDERLY, MemberCategory.RETIRED

# --- names ------------------------------------------------------------------------------------

# National frequency (per cent, 2007 household register), with the common Guangdong surnames
# nudged up because a Zhuhai bureau is part local, part incomers.
_SURNAME_WEIGHTS = {
    "王": 7.2, "李": 7.2, "张": 6.8, "刘": 5.4, "陈": 6.0, "杨": 3.1, "黄": 3.2, "赵": 2.3,
    "吴": 2.3, "周": 2.1, "徐": 1.7, "孙": 1.5, "马": 1.3, "朱": 1.3, "胡": 1.3, "郭": 1.2,
    "何": 1.4, "高": 1.0, "林": 1.8, "罗": 1.3, "郑": 1.1, "梁": 1.6, "谢": 0.9, "宋": 0.7,
    "唐": 0.7, "许": 0.7, "韩": 0.6, "冯": 0.6, "邓": 0.8, "曹": 0.6, "彭": 0.5, "曾": 0.8,
    "肖": 0.5, "田": 0.4, "董": 0.4, "袁": 0.4, "潘": 0.4, "于": 0.4, "蒋": 0.4, "蔡": 0.5,
    "余": 0.4, "杜": 0.4, "叶": 0.5, "程": 0.4, "苏": 0.4, "魏": 0.3, "吕": 0.3, "丁": 0.3,
    "任": 0.3, "沈": 0.3, "姚": 0.3, "卢": 0.3, "钟": 0.4, "谭": 0.3, "陆": 0.2, "汪": 0.2,
    "范": 0.2, "廖": 0.3, "方": 0.2, "邹": 0.2, "江": 0.2, "欧阳": 0.05, "司徒": 0.03,
}
SURNAMES = list(_SURNAME_WEIGHTS)
SURNAME_WEIGHTS = list(_SURNAME_WEIGHTS.values())

# Given names follow their generation: 建国, 秀英 for people born before 1960, 晓东, 丽娜 after.
GIVEN_SINGLE = {M: "伟强军磊勇杰涛斌超明刚平辉鹏华飞鑫波宁峰健彬浩亮俊毅坚东林",
                F: "芳娜敏静丽艳娟霞燕玲萍红梅琳莉慧婷雪颖洁倩丹蓉琴英晶"}
GIVEN_FIRST_OLDER = {M: "国建志永德振卫学家立文明洪庆继荣", F: "秀桂淑玉美丽凤金红春素翠"}
GIVEN_FIRST_YOUNGER = {M: "志建晓俊文海家立伟子嘉浩振宇少永", F: "晓丽美雅慧静海小春雪丹佳欣思"}
GIVEN_SECOND = {M: "华明强军平林伟刚东辉峰勇斌波涛杰宁成龙新忠民生荣",
                F: "英兰珍芳华萍玲梅红霞燕娟敏静丽琴云艳婷颖洁"}

MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                   "152", "153", "155", "156", "158", "159", "186", "187", "188", "189")

# --- the further roster fields ----------------------------------------------------------------

# Members admitted in the year before the campaign are still on probation (预备期 one year).
PROBATION_FROM = datetime.date(2009, 7, 1)
ETHNIC_MINORITIES = ("壮族", "回族", "满族", "土家族", "瑶族", "苗族", "畲族", "黎族")
EDUCATION_OLDER = {"初中": 10, "高中": 25, "中专": 25, "大学专科": 30, "大学本科": 10}
EDUCATION_YOUNGER = {"大学专科": 15, "大学本科": 60, "硕士研究生": 22, "博士研究生": 3}
NATIVE_PLACES = {"广东珠海": 18, "广东中山": 8, "广东江门": 8, "广东梅州": 8, "广东潮州": 5, "广东湛江": 6,
                 "湖南衡阳": 7, "湖南邵阳": 5, "湖北黄冈": 6, "江西赣州": 6, "广西桂林": 5, "四川南充": 5,
                 "河南信阳": 5, "福建漳州": 4}

# --- posts ------------------------------------------------------------------------------------

OFFICE_POSTS = {"科员": 35, "副主任科员": 20, "主任科员": 15, "副科长": 12, "办事员": 8, "副调研员": 3}
UNIT_POSTS = {"工程师": 15, "助理工程师": 10, "科员": 20, "会计": 6, "办事员": 10, "副主任": 6,
              "主任科员": 8}
POLICE_POSTS = {"民警": 40, "警长": 12, "副大队长": 8, "科员": 10, "中队长": 6}
HEALTH_POSTS = {"卫生监督员": 30, "主管医师": 10, "科员": 15, "副所长": 4, "办事员": 6}
TEMP_POSTS = {"工程师": 10, "高级工程师": 5, "主任科员": 8, "科员": 8}
ELDERLY_POSTS = ("工勤人员", "驾驶员", "后勤服务人员")


# --- the tree ---------------------------------------------------------------------------------

@dataclass
class OrgSpec:
    code: str
    name: str
    kind: str
    short_name: str = ""
    children: list["OrgSpec"] = field(default_factory=list)
    # Branches only: how many members, who heads the list, which posts the rest hold.
    size: tuple[int, int] = (10, 19)
    head: tuple[tuple[str, str], ...] = ()
    lead: str | None = "科长"
    posts: dict | None = None
    retirees: bool = False
    has_phone: bool = True


def _committee(code, unit, children, kind=OrgKind.COMMITTEE):
    if kind == OrgKind.LEADING_GROUP:
        return OrgSpec(code, f"中共珠海{unit}党组", kind, f"{unit}党组", children)
    return OrgSpec(code, f"中共珠海{unit}机关委员会", kind, f"{unit}机关党委", children)


def _branch(code, unit, label, **kw):
    return OrgSpec(code, f"{unit}{label}", OrgKind.BRANCH, label, **kw)


def _general(code, unit, label, children):
    return OrgSpec(code, f"{unit}{label}", OrgKind.GENERAL_BRANCH, label, children)


def _office(code, unit, chief="局长", **kw):
    # The bureau's leaders usually sit in the office branch.
    return _branch(code, unit, "办公室党支部", head=((LEADER, chief), (LEADER, f"副{chief}")),
                   lead="办公室主任", **kw)


def _retirees(code, unit, **kw):
    return _branch(code, unit, "离退休干部党支部", size=(10, 10), retirees=True, **kw)


def demo_tree() -> OrgSpec:
    fgj, czj, jyj = "市发展和改革局", "市财政局", "市教育局"
    gaj, mzj, rsj = "市公安局", "市民政局", "市人力资源和社会保障局"
    gtj, zjj, wsj, dsj = "市国土资源局", "市住房和城乡规划建设局", "市卫生局", "市地方税务局"
    return OrgSpec(ROOT_CODE, "中共珠海市直属机关工作委员会", OrgKind.WORK_COMMITTEE, "市直机关工委", [
        # The work committee's own staff; it has no retirees' branch, so its two retirees stay here.
        _branch("SZJG-JG", "市直机关工委", "机关党支部", size=(11, 11), lead=None,
                head=((LEADER, "市直机关工委书记"), (LEADER, "组织科科长"),
                      (RETIRED, "退休干部"), (RETIRED, "退休干部"))),
        _committee("SZJG-FGJ", fgj, [
            _branch("SZJG-FGJ-01", fgj, "办公室党支部", size=(16, 16), lead=None,
                    head=((LEADER, "局长"), (LEADER, "副局长"), (LEADER, "办公室主任"),
                          (GENERAL, "主任科员"), (GENERAL, "科员"))),
            _branch("SZJG-FGJ-02", fgj, "发展规划科党支部", size=(13, 13)),
            _general("SZJG-FGJ-Z1", fgj, "直属事业单位党总支", [
                _branch("SZJG-FGJ-Z1-01", fgj, "重点项目服务中心党支部", lead="主任", posts=UNIT_POSTS),
                _branch("SZJG-FGJ-Z1-02", fgj, "价格认证中心党支部", lead="主任", posts=UNIT_POSTS,
                        has_phone=False),
            ]),
            _retirees("SZJG-FGJ-LT", fgj),
            OrgSpec("SZJG-FGJ-LS01", "港珠澳大桥建设协调临时党支部", OrgKind.TEMP_BRANCH,
                    "港珠澳大桥临时党支部", size=(8, 8), lead="协调办副主任", posts=TEMP_POSTS),
        ]),
        _committee("SZJG-CZJ", czj, [
            _office("SZJG-CZJ-01", czj),
            _branch("SZJG-CZJ-02", czj, "预算科党支部"),
            _branch("SZJG-CZJ-03", czj, "国库支付中心党支部", lead="主任", posts=UNIT_POSTS),
            _retirees("SZJG-CZJ-LT", czj),
        ]),
        _committee("SZJG-JYJ", jyj, [
            _branch("SZJG-JYJ-01", jyj, "机关第一党支部", lead="办公室主任",
                    head=((LEADER, "局长"), (LEADER, "副局长"))),
            _branch("SZJG-JYJ-02", jyj, "机关第二党支部"),
            _general("SZJG-JYJ-Z1", jyj, "直属单位党总支", [
                _branch("SZJG-JYJ-Z1-01", jyj, "教育研究中心党支部", lead="主任",
                        posts={"教研员": 25, "科员": 10, "办事员": 5, "副主任": 4}),
                _branch("SZJG-JYJ-Z1-02", jyj, "招生考试中心党支部", lead="主任", posts=UNIT_POSTS),
            ]),
            _retirees("SZJG-JYJ-LT", jyj),
        ]),
        _committee("SZJG-GAJ", gaj, [
            _branch("SZJG-GAJ-01", gaj, "政治部党支部", lead="政治部主任",
                    head=((LEADER, "局长"), (LEADER, "副局长"))),
            _branch("SZJG-GAJ-02", gaj, "指挥中心党支部", lead="指挥中心主任", posts=POLICE_POSTS),
            _general("SZJG-GAJ-Z1", gaj, "治安警察支队党总支", [
                _branch("SZJG-GAJ-Z1-01", gaj, "治安支队第一党支部", lead="支队长",
                        posts=POLICE_POSTS),
                _branch("SZJG-GAJ-Z1-02", gaj, "治安支队第二党支部", lead="副支队长",
                        posts=POLICE_POSTS),
            ]),
            _retirees("SZJG-GAJ-LT", gaj),
        ]),
        _committee("SZJG-MZJ", mzj, [
            _office("SZJG-MZJ-01", mzj),
            _branch("SZJG-MZJ-02", mzj, "社会救助科党支部"),
            _branch("SZJG-MZJ-03", mzj, "社会福利院党支部", lead="院长", posts=UNIT_POSTS),
            _retirees("SZJG-MZJ-LT", mzj),
        ]),
        _committee("SZJG-RSJ", rsj, [
            _office("SZJG-RSJ-01", rsj),
            _branch("SZJG-RSJ-02", rsj, "就业促进和失业保险科党支部"),
            _branch("SZJG-RSJ-03", rsj, "社会保险基金管理中心党支部", lead="主任", posts=UNIT_POSTS),
            _retirees("SZJG-RSJ-LT", rsj),
        ]),
        _committee("SZJG-GTJ", gtj, [
            _office("SZJG-GTJ-01", gtj),
            _branch("SZJG-GTJ-02", gtj, "地籍管理科党支部"),
            _branch("SZJG-GTJ-03", gtj, "土地储备中心党支部", lead="主任", posts=UNIT_POSTS,
                    has_phone=False),
            _retirees("SZJG-GTJ-LT", gtj),
        ], kind=OrgKind.LEADING_GROUP),
        _committee("SZJG-ZJJ", zjj, [
            _office("SZJG-ZJJ-01", zjj),
            _branch("SZJG-ZJJ-02", zjj, "城乡规划科党支部"),
            _branch("SZJG-ZJJ-03", zjj, "建设工程质量监督检测站党支部", lead="站长", posts=UNIT_POSTS),
            _retirees("SZJG-ZJJ-LT", zjj),
        ]),
        _committee("SZJG-WSJ", wsj, [
            _office("SZJG-WSJ-01", wsj),
            _branch("SZJG-WSJ-02", wsj, "医政科党支部"),
            _branch("SZJG-WSJ-03", wsj, "卫生监督所党支部", lead="所长", posts=HEALTH_POSTS),
            _retirees("SZJG-WSJ-LT", wsj),
        ]),
        _committee("SZJG-DSJ", dsj, [
            _office("SZJG-DSJ-01", dsj),
            _branch("SZJG-DSJ-02", dsj, "征收管理科党支部"),
            _general("SZJG-DSJ-Z1", dsj, "稽查局党总支", [
                _branch("SZJG-DSJ-Z1-01", dsj, "稽查一科党支部"),
                _branch("SZJG-DSJ-Z1-02", dsj, "稽查二科党支部"),
            ]),
            _retirees("SZJG-DSJ-LT", dsj, has_phone=False),
        ]),
    ])


# --- hand-placed members ----------------------------------------------------------------------
# Keyed on (branch code, position in that branch's generated list). The positions avoid the
# heads of each list and the account holders below.

NAMED = {
    # 同名同姓: one pair inside branch A, two pairs across branches.
    ("SZJG-FGJ-01", 6): ("张伟", M), ("SZJG-FGJ-01", 9): ("张伟", M),
    ("SZJG-CZJ-02", 5): ("李娜", F), ("SZJG-WSJ-01", 4): ("李娜", F),
    ("SZJG-JYJ-01", 3): ("王芳", F), ("SZJG-MZJ-03", 6): ("王芳", F),
    # Characters outside GB2312 level 1, to keep forms, PDFs and search honest.
    ("SZJG-FGJ-01", 7): ("王堃", M), ("SZJG-GAJ-02", 5): ("陈喆", M),
    ("SZJG-DSJ-Z1-01", 3): ("刘赟", F),
}
# Records the branch still has to complete (the home page's "党员信息待补全").
INCOMPLETE = {
    ("SZJG-FGJ-01", 8): "joined_party_on", ("SZJG-FGJ-02", 5): "post",
    ("SZJG-CZJ-01", 6): "post", ("SZJG-JYJ-Z1-01", 4): "joined_party_on",
    ("SZJG-RSJ-02", 3): "joined_party_on",
}
STATUS = {
    ("SZJG-GAJ-02", 6): (MemberStatus.TRANSFERRED_OUT, "2010年3月组织关系转往广州市"),
    ("SZJG-ZJJ-02", 5): (MemberStatus.TRANSFERRED_OUT, "2010年4月调往省住房和城乡建设厅"),
    ("SZJG-WSJ-03", 4): (MemberStatus.TRANSFERRED_OUT, "2010年5月组织关系转往中山市"),
    ("SZJG-JYJ-LT", 2): (MemberStatus.DECEASED, "2010年2月病故"),
}


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    org_code: str
    # The member record the person holds, as (branch code, position); None for service accounts.
    member_slot: tuple[str, int] | None = None
    full_name: str = ""
    title: str = ""


ACCOUNTS = (
    DemoAccount("admin", Role.ADMIN, ROOT_CODE, full_name="梁志斌", title="系统管理员"),
    DemoAccount("reviewer", Role.DEPUTY_SECRETARY, ROOT_CODE, ("SZJG-JG", 1), title="工委副书记（市级审核）"),
    DemoAccount("city_secretary", Role.SECRETARY, ROOT_CODE, ("SZJG-JG", 0), title="工委书记"),
    DemoAccount("security", Role.SECURITY, ROOT_CODE, full_name="周敏", title="安全管理员"),
    DemoAccount("auditor", Role.AUDITOR, ROOT_CODE, full_name="何静", title="审计管理员"),
    DemoAccount("dw_secretary", Role.SECRETARY, "SZJG-FGJ", ("SZJG-FGJ-01", 1), title="机关党委书记"),
    DemoAccount("zb_secretary", Role.SECRETARY, "SZJG-FGJ-01", ("SZJG-FGJ-01", 2), title="支部书记"),
    DemoAccount("zb_staff", Role.STAFF, "SZJG-FGJ-01", ("SZJG-FGJ-01", 3), title="支部组织委员"),
    DemoAccount("zb2_secretary", Role.SECRETARY, "SZJG-FGJ-02", ("SZJG-FGJ-02", 0), title="支部书记"),
    DemoAccount("member", Role.MEMBER, "SZJG-FGJ-01", ("SZJG-FGJ-01", 4), title="一般在职党员"),
    DemoAccount("member2", Role.MEMBER, "SZJG-FGJ-LT", ("SZJG-FGJ-LT", 0), title="离退休党员"),
)


# --- planning: pure, no database --------------------------------------------------------------

def _add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def _months_between(start: datetime.date, end: datetime.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


class Planner:
    """Turns the tree spec into org and member rows, drawing every random number in a fixed order."""

    def __init__(self, seed: int = RANDOM_SEED):
        self.rng = random.Random(seed)
        self.extra = random.Random(EXTRA_SEED)

    def pick(self, weighted: dict) -> str:
        return self.rng.choices(list(weighted), list(weighted.values()))[0]

    def name(self, gender: str, birth_year: int) -> str:
        rng = self.rng
        surname = rng.choices(SURNAMES, SURNAME_WEIGHTS)[0]
        if rng.random() < 0.3:
            return surname + rng.choice(GIVEN_SINGLE[gender])
        first_pool = GIVEN_FIRST_OLDER if birth_year < 1960 else GIVEN_FIRST_YOUNGER
        first = rng.choice(first_pool[gender])
        second = rng.choice(GIVEN_SECOND[gender].replace(first, ""))
        return surname + first + second

    def phone(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10 ** 8):08d}"

    def landline(self) -> str:
        return f"0756-2{self.rng.randint(110000, 699999)}"

    def birth_and_join(self, category: str, post: str) -> tuple[datetime.date, datetime.date]:
        rng = self.rng
        if category == RETIRED:
            years, join_after = (1940, 1950), (12, 20 * 12)
        elif category == ELDERLY:
            years, join_after = (1950, 1958), (24, 20 * 12)
        elif category == LEADER:
            years = (1955, 1964) if "局长" in post or "书记" in post else (1960, 1975)
            join_after = (24, 12 * 12)
        else:
            years, join_after = (1960, 1988), (24, 15 * 12)
        birth = datetime.date(rng.randint(*years), rng.randint(1, 12), 1)
        # 党章: at least eighteen; the months are compared because the birth day is unknown.
        eighteen = _add_months(birth, 18 * 12)
        offset = rng.randint(*join_after)
        offset = min(offset, _months_between(eighteen, LATEST_JOIN))
        joined_month = _add_months(eighteen, offset)
        return birth, joined_month.replace(day=rng.randint(1, 28))

    def person(self, category: str, post: str) -> dict:
        rng = self.rng
        male_share = {LEADER: 0.75, GENERAL: 0.55, ELDERLY: 0.6, RETIRED: 0.65}[category]
        gender = M if rng.random() < male_share else F
        birth, joined = self.birth_and_join(category, post)
        row = dict(name=self.name(gender, birth.year), gender=gender, birth_month=birth,
                   post=post, joined_party_on=joined, phone=self.phone(), category=category,
                   status=MemberStatus.ACTIVE, note="")
        row.update(self.roster_extras(birth, joined))
        return row

    def roster_extras(self, birth: datetime.date, joined: datetime.date) -> dict:
        """What rosters exported by other systems add: 党员类型 and 转正时间, a 入党时间 known only
        to the month (about a quarter, as month-only rosters were imported), 民族, 学历, 籍贯."""
        rng = self.extra
        precision = DatePrecision.MONTH if rng.random() < 0.25 else DatePrecision.DAY
        extras = dict(joined_party_precision=precision, ethnicity="汉族" if rng.random() < 0.93
                      else rng.choice(ETHNIC_MINORITIES),
                      education=self.pick_from(rng, EDUCATION_OLDER if birth.year < 1965 else EDUCATION_YOUNGER),
                      native_place=self.pick_from(rng, NATIVE_PLACES))
        if precision == DatePrecision.MONTH:
            joined = extras["joined_party_on"] = joined.replace(day=1)
        if joined >= PROBATION_FROM:
            # About a third of those admitted in the last year are on probation; the others were
            # admitted a year earlier (the planner crowds the youngest against LATEST_JOIN).
            earlier = _add_months(joined, -12).replace(day=joined.day)
            if rng.random() < 0.3 or earlier < _add_months(birth, 18 * 12):
                extras["membership"] = MembershipType.PROBATIONARY
                return self.unrecorded(rng, extras)
            joined = extras["joined_party_on"] = earlier
        # 转正 a year after admission; a few probations were extended by half a year.
        months = 12 if rng.random() < 0.9 else 18
        extras.update(membership=MembershipType.FULL, full_member_on=_add_months(joined, months).replace(
            day=joined.day), full_member_precision=precision)
        return self.unrecorded(rng, extras)

    @staticmethod
    def unrecorded(rng: random.Random, extras: dict) -> dict:
        if rng.random() < 0.08:
            extras.update(ethnicity="", education="", native_place="")  # not yet recorded
        return extras

    @staticmethod
    def pick_from(rng: random.Random, weighted: dict) -> str:
        return rng.choices(list(weighted), list(weighted.values()))[0]

    def members_of(self, spec: OrgSpec) -> list[dict]:
        rng = self.rng
        size = rng.randint(*spec.size)
        if spec.retirees:
            slots = [(RETIRED, "退休干部")] * size
        else:
            slots = list(spec.head) + ([(LEADER, spec.lead)] if spec.lead else [])
            # A deputy bureau chief often joins the branch of the sections they oversee.
            if not spec.head and spec.kind == OrgKind.BRANCH and rng.random() < 0.4:
                slots.append((LEADER, "副局长"))
            with_elderly = spec.kind == OrgKind.BRANCH and rng.random() < 0.85
            rest = size - len(slots) - (1 if with_elderly else 0)
            slots += [(GENERAL, self.pick(spec.posts or OFFICE_POSTS)) for _ in range(rest)]
            if with_elderly:
                slots.append((ELDERLY, rng.choice(ELDERLY_POSTS)))
        rows = [self.person(category, post) for category, post in slots]
        self.apply_specials(spec.code, rows)
        return rows

    @staticmethod
    def apply_specials(code: str, rows: list[dict]) -> None:
        for (branch_code, index), (name, gender) in NAMED.items():
            if branch_code == code:
                rows[index].update(name=name, gender=gender)
        for (branch_code, index), field_name in INCOMPLETE.items():
            if branch_code == code:
                rows[index][field_name] = None if field_name == "joined_party_on" else ""
                if field_name == "joined_party_on":
                    rows[index].update(full_member_on=None, membership=MembershipType.FULL)
        for (branch_code, index), (status, note) in STATUS.items():
            if branch_code == code:
                rows[index].update(status=status, note=note)
        # The same-branch namesakes must be told apart by birth month, as a secretary would.
        same = [row for row in rows if row["name"] == "张伟"]
        if len(same) == 2 and same[0]["birth_month"] == same[1]["birth_month"]:
            same[1]["birth_month"] = _add_months(same[1]["birth_month"], -13)

    def plan(self, spec: OrgSpec):
        """Yield (spec, parent code, sort order, phone, member rows) depth first."""
        yield from self._plan(spec, None, 0)

    def _plan(self, spec, parent_code, sort_order):
        phone = self.landline()
        members = self.members_of(spec) if spec.kind in BRANCH_KINDS else []
        yield spec, parent_code, sort_order, (phone if spec.has_phone else ""), members
        for position, child in enumerate(spec.children, start=1):
            yield from self._plan(child, spec.code, position * 10)


# --- applying the plan ------------------------------------------------------------------------

def seed(*, year: int | None = None, stdout=None) -> dict:
    """Create whatever of the demo data is missing; return the accounts and the counts.

    `stdout`, if given, receives the summary and the account table.
    """
    year = year or timezone.localdate().year
    plan = list(Planner().plan(demo_tree()))
    with transaction.atomic():
        orgs, orgs_created = _ensure_orgs(plan)
        members_created = _ensure_members(plan, orgs)
        campaign = _ensure_campaign(year)
        accounts, users_created = _ensure_accounts(orgs)
        codes = {a.username: a.org_code for a in ACCOUNTS}
        # Commitments in every state of 定诺/审诺, only into a campaign that has none yet.
        commitments_created = seed_commitments(campaign, branch_code=codes["zb_secretary"],
                                               sibling_code=codes["zb2_secretary"])
        root = orgs[ROOT_CODE]
        counts = {
            "organisations": Organisation.objects.filter(path__startswith=root.path).count(),
            "members": Member.objects.filter(branch__path__startswith=root.path).count(),
        }
        created = {"organisations": orgs_created, "members": members_created, "users": users_created,
                   "commitments": commitments_created}
        if any(created.values()):
            audit.record(actor=None, action="demo.seed", obj=root, detail=created)
    result = {"root": root, "campaign": campaign, "accounts": accounts, "created": created, **counts}
    if stdout is not None:
        _report(stdout, result)
    return result


def _ensure_orgs(plan) -> tuple[dict[str, Organisation], int]:
    orgs = {o.code: o for o in Organisation.objects.filter(code__in=[p[0].code for p in plan])}
    created = 0
    for spec, parent_code, sort_order, phone, _members in plan:
        if spec.code in orgs:
            continue
        # actor=None: a set-up command stands outside the permission model, as for the root.
        orgs[spec.code] = services.organisation_create(
            actor=None, parent=orgs[parent_code] if parent_code else None, name=spec.name,
            kind=spec.kind, code=spec.code, short_name=spec.short_name if spec.short_name != spec.name else "",
            supervision_phone=phone, sort_order=sort_order)
        created += 1
    return orgs, created


def _ensure_members(plan, orgs) -> int:
    branch_ids = [orgs[spec.code].pk for spec, *_ in plan if spec.kind in BRANCH_KINDS]
    populated = set(Member.objects.filter(branch_id__in=branch_ids)
                    .values_list("branch_id", flat=True).distinct())
    new = []
    for spec, _parent, _order, _phone, rows in plan:
        branch = orgs[spec.code]
        if spec.kind not in BRANCH_KINDS or branch.pk in populated:
            continue
        for row in rows:
            member = Member(branch=branch, **row)
            # The same checks a form would run, without a query per row.
            member.full_clean(exclude=["branch", "user"], validate_unique=False,
                              validate_constraints=False)
            new.append(member)
    Member.objects.bulk_create(new, batch_size=500)
    return len(new)


def _ensure_campaign(year: int) -> Campaign:
    Campaign.objects.filter(is_current=True).exclude(year=year).update(is_current=False)
    campaign, created = Campaign.objects.get_or_create(year=year, defaults=dict(
        name=f"{year}年创先争优公开承诺",
        pledge_deadline=datetime.date(year, 9, 30),
        # 指导意见: 公开承诺工作要在10月底前完成.
        publish_deadline=datetime.date(year, 10, 31),
        evaluation_deadline=datetime.date(year, 12, 31),
        leader_min_items=3,
        is_current=True,
    ))
    if not created and not campaign.is_current:
        campaign.is_current = True
        campaign.save(update_fields=["is_current"])
    return campaign


def _slot_member(orgs, slot) -> Member | None:
    branch_code, index = slot
    # bulk_create inserts a branch's rows in plan order, so id order is plan order.
    return Member.objects.filter(branch=orgs[branch_code]).order_by("id")[index:index + 1].first()


def _ensure_accounts(orgs) -> tuple[list[dict], int]:
    User = get_user_model()
    # One hash for all: hashing is deliberately slow, and these accounts share a published password.
    password_hash = make_password(DEMO_PASSWORD)
    accounts, created_count = [], 0
    for spec in ACCOUNTS:
        org = orgs[spec.org_code]
        user, created = User.objects.get_or_create(username=spec.username)
        member = getattr(user, "member", None) if not created else None
        if member is None and spec.member_slot:
            member = _slot_member(orgs, spec.member_slot)
            if member is not None and member.user_id is None:
                member.user = user
                member.save(update_fields=["user", "updated_at"])
        full_name = member.name if member is not None else spec.full_name
        password = DEMO_PASSWORD
        if created:
            user.last_name, user.password = full_name, password_hash
            user.save()
        elif not user.check_password(DEMO_PASSWORD):
            # Someone changed it since: never overwrite a password that is no longer the demo one.
            password = "（已修改）"
        if created:
            created_count += 1
            audit.record(actor=None, action="user.create", obj=user, organisation=org,
                         detail={"role": spec.role, "member": member.pk if member else None,
                                 "demo": True})
        grant, grant_created = RoleGrant.objects.get_or_create(user=user, organisation=org,
                                                               role=spec.role)
        if grant_created:
            audit.record(actor=None, action="role.grant", obj=grant,
                         detail={"user": user.pk, "role": spec.role})
        accounts.append({
            "username": spec.username, "password": password, "name": full_name,
            "role": spec.role, "role_label": Role(spec.role).label, "title": spec.title,
            "organisation": org.name, "organisation_code": org.code,
            "member_id": member.pk if member else None,
        })
    return accounts, created_count


# --- output -----------------------------------------------------------------------------------

def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _report(stdout, result: dict) -> None:
    created, campaign = result["created"], result["campaign"]
    lines = [
        f"演示数据已就绪：组织 {result['organisations']} 个，党员 {result['members']} 名"
        f"（本次新建组织 {created['organisations']} 个、党员 {created['members']} 名、"
        f"账号 {created['users']} 个、承诺 {created['commitments']} 份）",
        f"活动年度：{campaign.name}（定诺截止 {cn_date(campaign.pledge_deadline)}，"
        f"亮诺截止 {cn_date(campaign.publish_deadline)}，评诺截止 {cn_date(campaign.evaluation_deadline)}）",
        "",
    ]
    header = ("用户名", "密码", "姓名", "角色", "组织", "说明")
    rows = [(a["username"], a["password"], a["name"], a["role_label"], a["organisation"], a["title"])
            for a in result["accounts"]]
    widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        lines.append("  ".join(_pad(cell, w) for cell, w in zip(row, widths)).rstrip())
    for line in lines:
        stdout.write(line + "\n")


class Command(BaseCommand):
    help = "生成珠海市直机关演示数据（组织树、党员、当前活动年度和演示账号），可重复运行。"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="活动年度，默认为今年")
        parser.add_argument("--quiet", action="store_true", help="不输出演示账号表")

    def handle(self, *args, year=None, quiet=False, **options):
        if year is not None and not 2000 <= year <= 2100:
            raise CommandError("活动年度应在2000年至2100年之间。")
        seed(year=year, stdout=None if quiet else self.stdout)
