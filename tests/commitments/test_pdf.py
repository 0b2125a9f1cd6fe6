"""The printable forms (附件1, 附件2): what they print, how they are fetched, cached and served.

PDFs are read back as text with poppler's pdftotext (-raw gives the content-stream order, so a
label written down a column reads as one word; -layout keeps the rows of the table) and with
pypdf for fonts and attachments. Letter-spacing splits characters, so text is compared with all
whitespace removed. Never the bytes.
"""
import datetime
import io
import re
import socket
import subprocess
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader, PdfWriter

from commitments import pdf
from commitments.models import Commitment, Item
from core.templatetags.cn import cn_date
from orgs.models import AuditEvent
from reviews.services import review_decide
from tests.conftest import make_commitment, make_member

CRITERIA = dict(advanced=True, central_work=True, post_duties=True, public_wishes=True, feasible=True)
OPINION = "同意。承诺事项体现先进性要求，切实可行，请抓好落实。"
VENDORED_FONTS = {"FandolSong-Bold-GB2312", "FandolFang-Regular-GB2312", "FandolHei-Regular-GB2312",
                  "NotoSerifCJKsc-Regular-Names"}
ANNEX2_LABELS = ["姓名", "性别", "出生年月", "职务或职业", "入党时间", "所在党支部", "监督电话", "公开承诺事项",
                 "支部审定意见", "（签名）", "（盖章）"]
ANNEX1_LABELS = ["党组织名称", "监督电话", "公开承诺事项", "上级党组织审定意见", "（盖章）"]
NOTE1 = "注：承诺书一式三份，本组织存一份，上一级党组织存一份，公示一份。"
NOTE2 = "注：承诺书一式三份，本人存一份，党组织存一份，公示一份。"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SITE_URL = "https://gongkai.example.gov.cn"
    return tmp_path


# --- helpers ---------------------------------------------------------------------------------------

def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pages(data: bytes, mode: str = "-raw") -> list[str]:
    """The text of each page (pdftotext separates pages with a form feed)."""
    out = subprocess.run(["pdftotext", mode, "-enc", "UTF-8", "-", "-"], input=data, capture_output=True,
                         check=True).stdout.decode()
    return out.split("\f")[:-1]


def embedded_fonts(data: bytes) -> set[str]:
    """PostScript names inside the embedded font programs (the subsets keep them)."""
    from fontTools.ttLib import TTFont

    names = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            descriptor = font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            # CFF programs (the OpenType faces) are /FontFile3, TrueType ones (CJK Ext Names) /FontFile2.
            program = descriptor.get("/FontFile3", descriptor.get("/FontFile2")).get_object().get_data()
            names.add(TTFont(io.BytesIO(program))["name"].getDebugName(6))
    return names


def approve(commitment, reviewer, opinion=OPINION):
    commitment.refresh_from_db()
    decision = review_decide(actor=reviewer, commitment=commitment, version=commitment.version,
                             decision="approve", criteria=CRITERIA, opinion=opinion)
    commitment.refresh_from_db()
    return decision


def approved_pledge(world, member, reviewer=None, **kw):
    kw.setdefault("items", 2)
    kw.setdefault("goal", "争当优秀共产党员，立足岗位发挥先锋模范作用")
    c = make_commitment(world.campaign, member=member, status="submitted", actor=world.staff_a, **kw)
    approve(c, reviewer or world.secretary_a)
    return c


def approved_org_commitment(world, org, **kw):
    kw.setdefault("items", 2)
    kw.setdefault("goal", "创建“五个好”党支部")
    c = make_commitment(world.campaign, organisation=org, status="submitted", actor=world.staff_a, **kw)
    decision = approve(c, world.committee_secretary, opinion="同意该支部的公开承诺。")
    return c, decision


def render(commitment) -> bytes:
    data, _ = pdf.form_pdf(pdf.form_for(Commitment.objects.select_related(
        "organisation", "member", "member__branch", "public_version").get(pk=commitment.pk)))
    return data


# --- what the forms print --------------------------------------------------------------------------

def test_member_form_prints_the_annex_with_every_field_in_triplicate(world):
    world.member_a.post = "办公室主任"
    world.member_a.save()
    pledge = approved_pledge(world, world.member_a)
    decision = pledge.decisions.get()
    data = render(pledge)

    raw = [flat(p) for p in pages(data)]
    assert len(raw) == 3
    assert all(flat(p).startswith("附件2：") for p in pages(data, "-layout"))
    for page, copy in zip(raw, ["本人存", "党组织存", "公示"]):
        assert "附件2：" in page
        assert "党员公开承诺书" in page and copy in page and NOTE2 in page
        for label in ANNEX2_LABELS:
            assert label in page, label
        for value in ["李娜", "女", "1975年3月", "办公室主任", "1998年7月", "第一党支部", "0756-2120001",
                      "争当目标：争当优秀共产党员，立足岗位发挥先锋模范作用",
                      "一、承诺内容：承诺事项1：为群众办实事", "完成措施：措施1", "完成时限：2010年12月31日",
                      "二、承诺内容：承诺事项2：为群众办实事", "完成措施：措施2", OPINION,
                      cn_date(decision.decided_at)]:
            assert value in page, value
        assert "履行责任人" not in page
    # The three copies are labelled at the top right in the order of the foot note.
    assert [flat(p.splitlines()[0]) for p in pages(data, "-layout")] == ["附件2：本人存", "附件2：党组织存",
                                                                         "附件2：公示"]
    # The rows of the table, as laid out.
    layout = [flat(line) for line in pages(data, "-layout")[0].splitlines()]
    assert "姓名李娜性别女出生年月1975年3月" in layout
    assert "职务或职业办公室主任入党时间1998年7月1日" in layout
    assert "所在党支部第一党支部监督电话0756-2120001" in layout


def test_only_the_public_copy_carries_the_qr_code_and_its_address(world):
    pledge = approved_pledge(world, world.member_a)
    url = "https://gongkai.example.gov.cn" + reverse("portal:public_commitment", args=[pledge.pk])
    raw = [flat(p) for p in pages(render(pledge))]
    assert [url in p for p in raw] == [False, False, True]
    images = [len(page.images) for page in PdfReader(io.BytesIO(render(pledge))).pages]
    assert images[:2] == [0, 0]
    form = pdf.form_for(pledge)
    assert form["public_url"] == url
    assert pdf.qr_data_url(url).startswith("data:image/svg+xml")


def test_organisation_form_prints_the_annex(world):
    commitment, decision = approved_org_commitment(world, world.branch_a)
    data = render(commitment)
    raw = [flat(p) for p in pages(data)]
    assert len(raw) == 3
    assert all(flat(p).startswith("附件1：") for p in pages(data, "-layout"))
    for page, copy in zip(raw, ["本组织存", "上一级党组织存", "公示"]):
        assert "附件1：" in page and "基层党组织公开承诺书" in page and copy in page and NOTE1 in page
        for label in ANNEX1_LABELS:
            assert label in page, label
        for value in ["第一党支部", "0756-2120001", "创建目标：创建“五个好”党支部",
                      "一、承诺内容：承诺事项1：为群众办实事", "具体措施：措施1", "完成时限：2010年12月31日",
                      "履行责任人：支部书记", "同意该支部的公开承诺。", cn_date(decision.decided_at)]:
            assert value in page, value
    assert [flat(p.splitlines()[0]) for p in pages(data, "-layout")] == ["附件1：本组织存", "附件1：上一级党组织存",
                                                                         "附件1：公示"]
    layout = [flat(line) for line in pages(data, "-layout")[0].splitlines()]
    assert "党组织名称第一党支部监督电话0756-2120001" in layout


def test_the_owner_signs_on_the_day_of_submission_and_the_review_stamp_on_the_day_of_approval(world):
    """The date beside （签名） is the day the approved version was submitted, never the day it was
    published (which can come later); the 审定 date beside （盖章） is the decision's."""
    from commitments.models import CommitmentVersion
    from commitments.services.lifecycle import commitment_publish

    pledge = approved_pledge(world, world.member_a)
    decision = pledge.decisions.get()
    CommitmentVersion.objects.filter(commitment=pledge).update(
        submitted_at=decision.decided_at - datetime.timedelta(days=3))
    submitted = cn_date(decision.decided_at - datetime.timedelta(days=3))
    text = flat(pages(render(pledge))[0])
    assert f"（签名）{submitted}" in text
    assert f"（盖章）{cn_date(decision.decided_at)}" in text
    pledge.refresh_from_db()
    commitment_publish(actor=world.staff_a, commitment=pledge, version=pledge.version,
                       published_on=datetime.date.today(), channels=["noticeboard"])
    assert f"（签名）{submitted}" in flat(pages(render(pledge))[0])


def test_an_oral_pledge_says_who_recorded_it(world):
    pledge = approved_pledge(world, world.member_a2, is_oral=True, recorder=world.staff_a)
    raw = [flat(p) for p in pages(render(pledge))]
    assert all("口头承诺，由一支部组织委员代为记录" in p for p in raw)


def test_rare_name_characters_print_with_the_vendored_fallback(world):
    pledges = [approved_pledge(world, world.member_a2),
               approved_pledge(world, world.member_c, reviewer=world.committee_secretary),
               approved_pledge(world, world.member_d, reviewer=world.city_secretary)]
    data = pdf.forms_pdf(pdf.forms_for(pdf.batch_commitments(world.root, world.campaign)), title="t")
    text = flat("".join(pages(data)))
    for name in ("王堃", "陈喆", "刘赟"):
        assert text.count(name) == 3, name
    assert len(pages(data)) == 3 * len(pledges)
    assert embedded_fonts(data) == VENDORED_FONTS


def test_only_the_vendored_fonts_are_embedded(world):
    pledge = approved_pledge(world, world.member_a)
    assert embedded_fonts(render(pledge)) == VENDORED_FONTS - {"NotoSerifCJKsc-Regular-Names"}


def long_pledge(world, name="赵长文", items=12):
    """An approved pledge of `items` long items: each copy runs over more than one page."""
    from commitments.models import CommitmentVersion
    from commitments.services.lifecycle import snapshot_of

    member = make_member(world.branch_a, name)
    c = make_commitment(world.campaign, member=member, status="draft", items=0, actor=world.staff_a)
    for n in range(1, items + 1):
        Item.objects.create(commitment=c, position=n, deadline=datetime.date(2010, 12, 31),
                            content=f"第{n}项承诺：" + "认真学习党章党规，积极参加组织生活，带头为群众办实事好事，" * 3,
                            measures=f"第{n}项措施：" + "每月走访联系群众不少于两次，" * 3)
    CommitmentVersion.objects.create(commitment=c, number=1, submitted_by=world.staff_a,
                                     snapshot=snapshot_of(c, list(c.items.order_by("position"))))
    Commitment.objects.filter(pk=c.pk).update(status="submitted", submitted_count=1, last_submitted_by=world.staff_a)
    approve(c, world.secretary_a)
    return c


def test_long_commitment_flows_onto_continuation_pages(world):
    c = long_pledge(world, items=15)

    data = render(c)
    raw = [flat(p) for p in pages(data)]
    assert len(raw) > 6 and len(raw) % 3 == 0
    per_copy = len(raw) // 3
    text = "".join(raw)
    for n, numeral in ((1, "一"), (10, "十"), (15, "十五")):
        assert text.count(f"{numeral}、承诺内容：第{n}项承诺") == 3
        assert text.count(f"第{n}项措施") == 3
    layout = [flat(p) for p in pages(data, "-layout")]
    for i, copy in enumerate(["本人存", "党组织存", "公示"]):
        first, last = layout[i * per_copy], layout[(i + 1) * per_copy - 1]
        assert first.startswith(f"附件2：{copy}党员公开承诺书")
        # The table goes on: the opinion and the foot note close the copy on its last page.
        assert "支部审定意见" in last and NOTE2 in last
        assert all("附件2：" not in p for p in raw[i * per_copy + 1:(i + 1) * per_copy])


def test_blank_forms_have_the_layout_and_empty_cells(world):
    for kind, labels, note in ((pdf.ANNEX1, ANNEX1_LABELS, NOTE1), (pdf.ANNEX2, ANNEX2_LABELS, NOTE2)):
        data, _ = pdf.form_pdf(pdf.blank_form(kind))
        raw = [flat(p) for p in pages(data)]
        assert len(raw) == 3
        for page in raw:
            assert all(label in page for label in labels) and note in page
            assert "承诺内容" not in page and "http" not in page and "年月日" in page
    assert pdf.filename_for(pdf.blank_form(pdf.ANNEX2)) == "党员公开承诺书-空白.pdf"


def test_chinese_item_numbers():
    assert [pdf.cn_number(n) for n in (1, 9, 10, 11, 15, 20, 21, 99)] == [
        "一", "九", "十", "十一", "十五", "二十", "二十一", "九十九"]


# --- which version is printed ----------------------------------------------------------------------

def _revise_and_resubmit(world, pledge, goal):
    from commitments.services.lifecycle import commitment_revise, commitment_save_draft, commitment_submit

    pledge.refresh_from_db()
    commitment_revise(actor=world.staff_a, commitment=pledge, version=pledge.version)
    pledge.refresh_from_db()
    items = [{"id": i.pk, "content": i.content, "measures": i.measures, "deadline": i.deadline,
              "responsible": i.responsible} for i in pledge.items.filter(removed_at__isnull=True)]
    commitment_save_draft(actor=world.staff_a, commitment=pledge, version=pledge.version, goal=goal, items=items)
    pledge.refresh_from_db()
    # A member with an account submits their revision themself; for one without, staff record the agreement.
    commitment_submit(actor=pledge.member.user or world.staff_a, commitment=pledge, version=pledge.version,
                      consent="in_person")
    pledge.refresh_from_db()


def test_a_revision_prints_the_public_version_until_its_own_approval(world):
    from commitments.services.lifecycle import commitment_publish

    pledge = approved_pledge(world, world.member_a, goal="第一版目标")
    commitment_publish(actor=world.staff_a, commitment=pledge, version=pledge.version,
                       published_on=datetime.date.today(), channels=["meeting"])
    _revise_and_resubmit(world, pledge, "第二版目标")
    # Under review again: the noticeboard still shows version 1, and so does the paper form.
    assert pdf.form_for(pledge)["goal"] == "第一版目标"
    approve(pledge, world.secretary_a, opinion="同意修订。")
    form = pdf.form_for(pledge)
    assert (form["goal"], form["version_number"], form["opinion"]) == ("第二版目标", 2, "同意修订。")
    assert form["signed_on"] == cn_date(pledge.versions.get(number=2).submitted_at)  # signed when resubmitted


def test_nothing_to_print_before_approval(world):
    draft = make_commitment(world.campaign, member=world.member_a, status="draft")
    submitted = make_commitment(world.campaign, member=world.member_b, status="submitted")
    # Approved in the data but without an approving decision: no 审定意见 to print.
    odd = make_commitment(world.campaign, member=world.member_c, status="approved")
    assert [pdf.form_for(c) for c in (draft, submitted, odd)] == [None, None, None]


# --- the fetcher -----------------------------------------------------------------------------------

@pytest.fixture
def no_network(monkeypatch):
    attempts = []

    def refuse(self, address):
        attempts.append(address)
        raise OSError("network use in a PDF render")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


@pytest.fixture
def fetched(monkeypatch):
    """Every URL WeasyPrint hands the fetcher, with whether it was served."""
    calls = []
    fetcher = pdf.safe_fetcher()
    original = type(fetcher).fetch

    def spy(self, url, headers=None):
        try:
            response = original(self, url, headers)
        except Exception:
            calls.append((url, False))
            raise
        calls.append((url, True))
        return response

    monkeypatch.setattr(type(fetcher), "fetch", spy)
    return calls


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "http://127.0.0.1:9/x", "https://example.com/a.png", "ftp://example.com/x",
    "../../../../etc/passwd", "/etc/passwd", "static:../../etc/passwd", "static:css/../../../etc/passwd",
    "static:%2e%2e/%2e%2e/etc/passwd", "static:/etc/passwd", "static:css\\..\\..\\x", "static:",
])
def test_fetcher_refuses_everything_but_static_files_and_data(url, no_network):
    with pytest.raises(pdf.FetchRefused):
        pdf.safe_fetcher().fetch(url)
    assert no_network == []


def test_fetcher_serves_static_files_and_data_urls():
    response = pdf.safe_fetcher().fetch("static:css/forms-pdf.css")
    assert b"@font-face" in response.read() and response.content_type == "text/css"
    assert pdf.safe_fetcher().fetch("data:text/plain;base64,5YWs5byA").read().decode() == "公开"


def test_user_text_is_printed_as_text_and_fetches_nothing(world, fetched, no_network):
    goal = ('<img src="file:///etc/passwd"><link rel="attachment" href="file:///etc/passwd">'
            '<img src="http://127.0.0.1:9/x">')
    pledge = approved_pledge(world, world.member_a, goal=goal)
    data = render(pledge)
    assert not [url for url, _ in fetched if "passwd" in url or "127.0.0.1" in url]
    assert {url.split(":")[0] for url, _ in fetched} <= {"static", "data"}
    assert no_network == []
    reader = PdfReader(io.BytesIO(data))
    assert not reader.attachments
    text = "".join(pages(data))
    assert "root:" not in text
    assert '<imgsrc="file:///etc/passwd">' in flat(text)   # shown, as the drafter typed it


def test_markup_that_slipped_through_still_fetches_nothing(fetched, no_network):
    html = ('<html><body><p>x</p><img src="file:///etc/passwd"><link rel="attachment" href="file:///etc/passwd">'
            '<img src="http://127.0.0.1:9/x"><img src="../../../etc/passwd">'
            '<link rel="stylesheet" href="file:///etc/passwd"></body></html>')
    data = pdf.html_to_pdf(html)
    assert fetched and all(not served for _, served in fetched)
    assert no_network == []
    assert not PdfReader(io.BytesIO(data)).attachments
    assert "root:" not in "".join(pages(data))


# --- the cache -------------------------------------------------------------------------------------

@pytest.fixture
def renders(monkeypatch):
    """The forms WeasyPrint lays out (every form goes through render_forms)."""
    calls = []
    original = pdf.render_forms

    def spy(forms):
        calls.extend(forms)
        return original(forms)

    monkeypatch.setattr(pdf, "render_forms", spy)
    return calls


def test_a_reprint_comes_from_the_cache(world, renders, media):
    pledge = approved_pledge(world, world.member_a)
    form = pdf.form_for(pledge)
    first, cached = pdf.form_pdf(form)
    assert not cached and len(renders) == 1
    second, cached = pdf.form_pdf(pdf.form_for(pledge))
    assert cached and second == first and len(renders) == 1
    files = list((media / "forms").glob("*.pdf"))
    assert [f.name.startswith(f"annex2-v{form['version_id']}-d{form['decision_id']}-") for f in files] == [True]


def test_an_edited_record_is_rendered_again_and_the_old_file_dropped(world, renders, media):
    pledge = approved_pledge(world, world.member_a)
    pdf.form_pdf(pdf.form_for(pledge))
    world.member_a.post = "副科长"
    world.member_a.save()
    pledge = Commitment.objects.select_related("member__branch").get(pk=pledge.pk)
    data, cached = pdf.form_pdf(pdf.form_for(pledge))
    assert not cached and len(renders) == 2
    assert "副科长" in flat(pages(data)[0])
    assert len(list((media / "forms").glob("*.pdf"))) == 1


def test_blank_forms_are_cached_too(renders):
    pdf.form_pdf(pdf.blank_form(pdf.ANNEX1))
    assert pdf.form_pdf(pdf.blank_form(pdf.ANNEX1))[1] is True
    assert len(renders) == 1


# --- the views -------------------------------------------------------------------------------------

def test_officer_downloads_a_form_and_the_print_is_audited(world, as_user):
    pledge = approved_pledge(world, world.member_a2)
    before = AuditEvent.objects.filter(action="commitment.print").count()
    response = as_user(world.staff_a).get(reverse("commitments:form_pdf", args=[pledge.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].lower() == "inline; filename*=utf-8''" + quote("党员公开承诺书-王堃.pdf").lower()
    assert len(pages(response.content)) == 3
    events = AuditEvent.objects.filter(action="commitment.print")
    assert events.count() == before + 1
    event = events.first()
    assert (event.actor, event.object_id, event.organisation, event.detail["form"]) == (
        world.staff_a, str(pledge.pk), world.branch_a, "annex2")
    # A reprint is served from the cache and audited again.
    as_user(world.staff_a).get(reverse("commitments:form_pdf", args=[pledge.pk]))
    assert events.count() == before + 2 and events.first().detail["cached"] is True


def test_member_prints_own_pledge(world, as_user):
    pledge = approved_pledge(world, world.member_a)
    response = as_user(world.member_user_a).get(reverse("commitments:form_pdf", args=[pledge.pk]))
    assert response.status_code == 200


def test_org_form_filename(world, as_user):
    commitment, _ = approved_org_commitment(world, world.branch_a)
    response = as_user(world.committee_secretary).get(reverse("commitments:form_pdf", args=[commitment.pk]))
    assert quote("基层党组织公开承诺书-第一党支部.pdf") in response["Content-Disposition"]


@pytest.mark.parametrize("persona", ["outsider", "secretary_b", "auditor"])
def test_outsider_and_sibling_branch_get_404(world, as_user, persona):
    pledge = approved_pledge(world, world.member_a)
    response = as_user(getattr(world, persona)).get(reverse("commitments:form_pdf", args=[pledge.pk]))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="commitment.print").exists()


def test_draft_commitment_gets_404(world, as_user):
    draft = make_commitment(world.campaign, member=world.member_a, status="draft")
    assert as_user(world.staff_a).get(reverse("commitments:form_pdf", args=[draft.pk])).status_code == 404


def test_print_urls_are_get_only(world, as_user):
    pledge = approved_pledge(world, world.member_a)
    client = as_user(world.staff_a)
    for url in (reverse("commitments:form_pdf", args=[pledge.pk]),
                reverse("commitments:batch_pdf", args=[world.branch_a.pk]),
                reverse("commitments:blank_pdf", args=["annex1"])):
        assert client.post(url).status_code == 405


def test_batch_prints_organisations_then_members_in_tree_order(world, as_user):
    c_org, _ = approved_org_commitment(world, world.branch_a)
    approved_org_commitment(world, world.branch_c)
    approved_pledge(world, world.member_c, reviewer=world.committee_secretary)   # 陈喆, 第三党支部
    approved_pledge(world, world.member_a2)                                     # 王堃, 第一党支部
    approved_pledge(world, world.member_a)                                      # 李娜, 第一党支部
    make_commitment(world.campaign, member=world.member_b, status="submitted")  # not approved: left out
    approved_pledge(world, world.member_d, reviewer=world.city_secretary)       # outside the committee

    response = as_user(world.committee_secretary).get(reverse("commitments:batch_pdf", args=[world.committee.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "forms.pdf" not in response["Content-Disposition"]
    firsts = [flat(p) for p in pages(response.content)][::3]
    owners = [re.search(r"党组织名称(.+?)监督电话|姓名(.+?)性别", p).group(1, 2) for p in firsts]
    assert [o[0] or o[1] for o in owners] == ["第一党支部", "第三党支部", "李娜", "王堃", "陈喆"]
    event = AuditEvent.objects.get(action="commitment.print")
    assert event.detail["forms"] == 5 and event.object_id == str(world.committee.pk)

    # ?scope=own: the organisation itself and its own members.
    response = as_user(world.secretary_a).get(reverse("commitments:batch_pdf", args=[world.branch_a.pk]) + "?scope=own")
    assert response.status_code == 200
    assert len(pages(response.content)) == 9
    assert c_org.pk in AuditEvent.objects.filter(action="commitment.print").first().detail["commitments"]


def test_batch_with_nothing_to_print_says_so(world, as_user):
    response = as_user(world.secretary_b).get(reverse("commitments:batch_pdf", args=[world.branch_b.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "暂无可打印的公开承诺书" in response.content.decode()
    assert not AuditEvent.objects.filter(action="commitment.print").exists()


@pytest.mark.parametrize("persona,org", [("secretary_b", "branch_a"), ("secretary_a", "committee"),
                                         ("member_user_a", "branch_a"), ("admin", "branch_a"),
                                         ("outsider", "branch_a")])
def test_batch_is_for_officers_reaching_the_organisation(world, as_user, persona, org):
    url = reverse("commitments:batch_pdf", args=[getattr(world, org).pk])
    assert as_user(getattr(world, persona)).get(url).status_code == 404


def test_blank_forms_for_any_signed_in_user(world, as_user, client):
    for kind, title in (("annex1", "基层党组织公开承诺书"), ("annex2", "党员公开承诺书")):
        response = as_user(world.member_user_a).get(reverse("commitments:blank_pdf", args=[kind]))
        assert response.status_code == 200
        assert quote(f"{title}-空白.pdf") in response["Content-Disposition"]
    assert as_user(world.outsider).get(reverse("commitments:blank_pdf", args=["annex3"])).status_code == 404
    assert AuditEvent.objects.filter(action="commitment.print", detail__blank=True).count() == 2
    client.logout()
    assert client.get(reverse("commitments:blank_pdf", args=["annex1"])).status_code == 302


def test_batch_query_count_does_not_grow_with_the_forms(world, as_user, monkeypatch):
    client = as_user(world.committee_secretary)
    stub = io.BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.write(stub)
    # No layout: every form is a blank page (the batch concatenates the forms' PDFs).
    monkeypatch.setattr(pdf, "render_forms", lambda forms: [stub.getvalue()] * len(forms))
    url = reverse("commitments:batch_pdf", args=[world.committee.pk])

    def add(n):
        for i in range(n):
            member = make_member(world.branch_c, f"计数{Commitment.objects.count()}-{i}")
            approved_pledge(world, member, reviewer=world.committee_secretary)

    add(1)
    approved_org_commitment(world, world.branch_a)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    add(9)
    with CaptureQueriesContext(connection) as ten:
        assert client.get(url).status_code == 200
    # session, user, account security, organisation, grants, campaign, commitments, versions,
    # decisions, audit (chain head lock, insert, head update)
    assert len(ten) == len(one) <= 12
