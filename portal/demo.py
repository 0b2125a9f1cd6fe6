"""Demo commitments for `seed_demo`: every state of 定诺/审诺 in the demo branches, written through
the same services the pages use (so the audit trail and versions are real).

Runs only while the campaign has no commitments at all, so a second seed adds nothing and
never disturbs what a demo user has done since.
"""
import datetime
import io
import math
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from commitments import services
from commitments.models import COPY_LABELS, Commitment, ProgressVisibility, ScanDisplay, StampedCopy, Suggestion
from evaluations.demo import seed_evaluations
from orgs.models import Member, MemberCategory, MemberStatus, Organisation
from reviews.services import review_decide

User = get_user_model()

ORG_GOAL = "创建“五个好”先进党支部，做到领导班子好、党员队伍好、工作机制好、工作业绩好、群众反映好"
ORG_ITEMS = [
    ("开展“学理论、强素质”读书活动，每月组织一次集中学习", "制定学习计划，支部书记带头讲党课，每季度开展一次学习交流",
     "支部书记"),
    ("推行“一站式”政务服务，窗口办件按时办结率达到100%", "梳理办事流程，公开办事指南和时限，实行首问负责和限时办结",
     "组织委员"),
    ("结对帮扶社区困难家庭，年内为群众办实事不少于5件", "每名党员联系一户困难家庭，每季度走访一次并登记台账",
     "宣传委员"),
]
PLEDGE_GOAL = "争当立足岗位、服务群众的优秀共产党员"
PLEDGE_ITEMS = [
    ("带头学习实践科学发展观，每季度撰写一篇学习体会", "参加支部每月集中学习，自学《科学发展观重要论述摘编》"),
    ("立足岗位做到“五带头”，全年经办事项零差错、零投诉", "落实首问负责制和限时办结制，主动公开办事进度"),
    ("为社区困难群众办两件实事", "结对帮扶一户困难家庭，逢年过节上门走访慰问"),
]
SUGGESTIONS = [
    ("希望窗口中午时段安排人员值班，方便上班族办事。", "13800006621"),
    ("办事指南能否在网站上公开，并写明需要带哪些材料。", ""),
    ("建议机关党员到社区开展一次政策宣讲。", ""),
]


def _items(year: int, rows, *, with_responsible: bool) -> list[dict]:
    deadlines = [datetime.date(year, 12, 31), datetime.date(year, 11, 30), datetime.date(year, 12, 15)]
    return [{"content": content, "measures": measures, "deadline": deadlines[n % 3],
             "responsible": (rest[0] if rest else "") if with_responsible else ""}
            for n, (content, measures, *rest) in enumerate(rows)]


def _draft(actor, campaign, *, organisation=None, member=None, is_oral=False, n_items=2):
    c = services.commitment_start(actor=actor, campaign=campaign, organisation=organisation, member=member,
                                  is_oral=is_oral)
    if organisation is not None:
        items = _items(campaign.year, ORG_ITEMS[:n_items], with_responsible=True)
        goal = ORG_GOAL
    else:
        items = _items(campaign.year, PLEDGE_ITEMS[:n_items], with_responsible=False)
        goal = PLEDGE_GOAL
    return services.commitment_save_draft(actor=actor, commitment=c, version=c.version, goal=goal, items=items)


def _submit(actor, c):
    # The demo's members drafted for by staff have no account: staff met them (四（一）自愿).
    services.commitment_submit(actor=actor, commitment=c, version=c.version, consent="in_person")
    c.refresh_from_db()
    return c


def _publish(actor, c):
    c.refresh_from_db()
    services.commitment_publish(actor=actor, commitment=c, version=c.version,
                                published_on=timezone.localdate(),
                                channels=["meeting", "noticeboard", "internet"])


# The demo scans are drawn, not shipped: a sheet with the form's title, fields and items, a
# signature and a red stamp. The forms' own font is used when it is there.
DEMO_FONT = Path(settings.BASE_DIR) / "static" / "fonts" / "FandolSong-Bold-GB2312.otf"
RED = (196, 30, 30)


def _font(size: int):
    try:
        return ImageFont.truetype(str(DEMO_FONT), size)
    except OSError:
        return None  # no font: the sheet is drawn without text


def _wrap(text: str, width: int) -> list[str]:
    return [text[i:i + width] for i in range(0, len(text), width)] or [""]


def stamped_form_png(*, title: str, copy_label: str, fields: list[tuple[str, str]], goal_label: str, goal: str,
                     items: list[str], stamp_text: str, signed_on: datetime.date) -> bytes:
    """A photo-like PNG of a signed and stamped paper form (the demo's 盖章件)."""
    width, height = 620, 877  # A4's proportions
    img = Image.new("RGB", (width, height), (250, 249, 245))
    draw = ImageDraw.Draw(img)
    big, body, small = _font(26), _font(15), _font(12)

    def text(xy, value, font, fill=(30, 30, 30), anchor="la"):
        if font is not None:
            draw.text(xy, value, font=font, fill=fill, anchor=anchor)

    text((width // 2, 50), title, big, anchor="ma")
    text((width - 40, 20), f"（{copy_label}）", small, anchor="ra")
    y = 100
    for label, value in fields:
        draw.rectangle((40, y, width - 40, y + 30), outline=(60, 60, 60))
        draw.line((150, y, 150, y + 30), fill=(60, 60, 60))
        text((50, y + 8), label, body)
        text((160, y + 8), value, body)
        y += 30
    y += 14
    text((40, y), goal_label, body)
    for line in _wrap(goal, 34)[:3]:
        y += 22
        text((60, y), line, body)
    y += 34
    text((40, y), "承诺事项", body)
    for n, item in enumerate(items, start=1):
        for k, line in enumerate(_wrap(f"{n}. {item}", 34)[:2]):
            y += 22
            text((60 if k == 0 else 78, y), line, body)
    # Signature (a scribble in ink) and the date, then the stamp over them, as on paper.
    base = height - 170
    text((width - 300, base), "签字：", body)
    draw.line([(width - 250 + 12 * i, base + 12 + (8 if i % 2 else -6)) for i in range(12)], fill=(20, 30, 90),
              width=3)
    text((width - 300, base + 40), f"{signed_on.year}年{signed_on.month}月{signed_on.day}日", body)
    cx, cy, r = width - 160, base + 20, 66
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=RED, width=5)
    star = [(cx + 22 * math.cos(math.radians(-90 + 36 * k)) * (1 if k % 2 == 0 else 0.4),
             cy + 22 * math.sin(math.radians(-90 + 36 * k)) * (1 if k % 2 == 0 else 0.4)) for k in range(10)]
    draw.polygon(star, fill=RED)
    # The organisation's name round the top of the seal, each character turned to face outwards.
    seal = _font(14)
    chars = stamp_text[:12]
    if seal is not None and chars:
        step = min(22.0, 250.0 / len(chars))
        for k, char in enumerate(chars):
            angle = -90 - step * (len(chars) - 1) / 2 + step * k
            glyph = Image.new("L", (26, 26), 0)
            ImageDraw.Draw(glyph).text((13, 13), char, font=seal, fill=255, anchor="mm")
            glyph = glyph.rotate(-(angle + 90), resample=Image.Resampling.BICUBIC)
            x = cx + (r - 15) * math.cos(math.radians(angle)) - 13
            y = cy + (r - 15) * math.sin(math.radians(angle)) - 13
            img.paste(Image.new("RGB", glyph.size, RED), (round(x), round(y)), glyph)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _stamp_back(actor, c, *, copy: str, display: str = ScanDisplay.NONE) -> None:
    """Upload a drawn 盖章件 of the commitment's public version through the service."""
    c.refresh_from_db()
    version = c.public_version
    snapshot = version.snapshot
    if c.member_id:
        m = c.member
        fields = [("姓名", m.name), ("性别", m.get_gender_display()), ("所在党支部", m.branch.name)]
        title, stamp_text = "党员公开承诺书", m.branch.name
    else:
        org = c.organisation
        fields = [("党组织名称", org.name), ("监督电话", org.supervision_phone or "")]
        title, stamp_text = "基层党组织公开承诺书", org.name
    data = stamped_form_png(title=title, copy_label=COPY_LABELS[c.member_id is not None][copy], fields=fields,
                            goal_label=c.goal_label, goal=snapshot.get("goal", ""),
                            items=[i["content"] for i in snapshot.get("items", [])], stamp_text=stamp_text,
                            signed_on=c.publications.order_by("published_on").first().published_on)
    services.stamped_scan_upload(actor=actor, commitment=c, version_id=version.pk, copy=copy,
                                 upload=SimpleUploadedFile(f"{title}（盖章）.png", data, "image/png"),
                                 public_display=display)


def seed_commitments(campaign, *, branch_code: str, sibling_code: str) -> int:
    """Fill branch A (and its sibling) with commitments in every state; return how many were made."""
    if Commitment.objects.filter(campaign=campaign).exists():
        return 0
    users = {u.username: u for u in User.objects.filter(
        username__in=["member", "zb_staff", "zb_secretary", "zb2_secretary", "dw_secretary"])}
    if len(users) < 5:
        return 0
    branch = Organisation.objects.get(code=branch_code)
    sibling = Organisation.objects.get(code=sibling_code)
    staff, secretary, committee_secretary = users["zb_staff"], users["zb_secretary"], users["dw_secretary"]
    all_ticked = {"advanced": True, "central_work": True, "post_duties": True, "public_wishes": True,
                  "feasible": True}
    made = 0

    # The branch's own commitment waits for the committee (dw_secretary's queue).
    _submit(staff, _draft(staff, campaign, organisation=branch, n_items=3))
    # The sibling branch's was approved.
    sibling_staff = users["zb2_secretary"]
    c = _submit(sibling_staff, _draft(sibling_staff, campaign, organisation=sibling, n_items=3))
    review_decide(actor=committee_secretary, commitment=c, version=c.version, decision="approve",
                  criteria=all_ticked, opinion="承诺事项符合支部实际，同意公开。")
    _publish(sibling_staff, c)
    # 亮诺 after printing: the stamped 公示 copy, scanned back and shown on the noticeboard.
    _stamp_back(sibling_staff, c, copy=StampedCopy.PUBLIC, display=ScanDisplay.BESIDE)
    made += 2

    # The member's own pledge is a draft they can finish (the `member` demo account).
    own = users["member"].member
    _draft(users["member"], campaign, member=own, n_items=2)
    made += 1

    others = list(Member.objects.filter(branch=branch, status=MemberStatus.ACTIVE, user__isnull=True)
                  .exclude(category__in=(MemberCategory.ELDERLY, MemberCategory.RETIRED)).order_by("id"))
    leaders = [m for m in others if m.category == MemberCategory.LEADER]
    plain = [m for m in others if m.category != MemberCategory.LEADER]
    # Waiting for the branch secretary (zb_secretary's queue), one of them a leader's.
    for m in plain[:3] + leaders[:1]:
        _submit(staff, _draft(staff, campaign, member=m, n_items=3))
        made += 1
    # Approved (the first one also published on the noticeboard), and one returned with guidance.
    for n, m in enumerate(plain[3:5]):
        c = _submit(staff, _draft(staff, campaign, member=m, n_items=2))
        review_decide(actor=secretary, commitment=c, version=c.version, decision="approve", criteria=all_ticked,
                      opinion="承诺内容具体可行，同意。")
        if n == 0:
            _publish(staff, c)
            # The branch's copy of the stamped pledge, kept for the archive only.
            _stamp_back(staff, c, copy=StampedCopy.REVIEWER)
            c.refresh_from_db()
            # 践诺: a public progress entry on the first item.
            first_item = c.public_version.snapshot["items"][0]["id"]
            services.progress_record(actor=staff, commitment=c, item_id=first_item,
                                     happened_on=min(datetime.date.today(), c.campaign.evaluation_deadline),
                                     done="参加支部集中学习3次，撰写学习体会一篇并在支部会上交流。",
                                     effect="带动本科室同志共同学习，形成学习笔记汇编。", visibility=ProgressVisibility.PUBLIC)
            # ... and one shown to the branch's members only (四（四）在一定范围内公示).
            services.progress_record(actor=staff, commitment=c, item_id=first_item,
                                     happened_on=min(datetime.date.today(), c.campaign.evaluation_deadline),
                                     done="在支部党员大会上交流学习体会，接受党员评议。",
                                     effect="党员提出改进建议2条，已纳入下一步计划。",
                                     visibility=ProgressVisibility.MEMBERS)
        made += 1
    for m in plain[5:6]:
        c = _submit(staff, _draft(staff, campaign, member=m, n_items=1))
        review_decide(actor=secretary, commitment=c, version=c.version, decision="return", criteria={},
                      opinion="措施过于笼统，请结合岗位写明为群众办的实事和完成时间。")
        made += 1
    # 四（一）自愿: the branch's 组织委员 drafted the secretary's own pledge from his notes; it goes to
    # review only once he confirms it (zb_secretary's home page: 确认我的公开承诺).
    secretary_member = Member.objects.filter(user=secretary, status=MemberStatus.ACTIVE).first()
    if secretary_member is not None:
        c = _draft(staff, campaign, member=secretary_member, n_items=3)
        services.commitment_submit(actor=staff, commitment=c, version=c.version)
        made += 1
    # An oral pledge recorded by staff for an elderly member.
    elderly = Member.objects.filter(branch=branch, status=MemberStatus.ACTIVE,
                                    category__in=(MemberCategory.ELDERLY, MemberCategory.RETIRED)).first()
    if elderly is not None:
        _submit(staff, _draft(staff, campaign, member=elderly, is_oral=True, n_items=1))
        made += 1
    # One member away on assignment: deferred, to make up later.
    if len(plain) > 6:
        services.exemption_propose(actor=staff, member=plain[6], campaign=campaign, kind="defer",
                                 reason="借调市重点项目指挥部，暂不在岗",
                                 makeup_due=max(campaign.publish_deadline, datetime.date.today())
                                 + datetime.timedelta(days=30))
    # One member in hospital for a long time: the branch proposes an exemption, which waits for the
    # committee above (dw_secretary) to approve (六（三）机关党组织审核认同).
    if len(plain) > 7:
        services.exemption_propose(actor=staff, member=plain[7], campaign=campaign, kind="exempt",
                                   reason="因病长期住院治疗，无法参加组织生活")
    # Opinions gathered before drafting: the public box, and a symposium staff recorded.
    for content, contact in SUGGESTIONS:
        services.suggestion_submit_public(organisation=branch, content=content, contact=contact)
    services.opinion_record(actor=staff, organisation=branch, channel=Suggestion.Channel.SYMPOSIUM,
                            content="与会群众代表希望进一步简化办事材料，推行网上预约。",
                            held_on=datetime.date(campaign.year, 3, 12), place="局三楼会议室",
                            participants="服务对象代表8人、支部党员12人")
    # The city committee publishes the guidance's reference items for everyone below it.
    root = Organisation.objects.filter(pk=branch.ancestor_ids[0]).first()
    reviewer = User.objects.filter(username="reviewer").first()
    if root is not None and reviewer is not None:
        services.references_import_guidance(actor=reviewer, organisation=root)
    seed_evaluations(campaign)
    return made
