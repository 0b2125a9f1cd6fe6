"""Real paper: the printed 承诺书 with ordinary and long content (issue 16).

Forms are built through the real services with items of the lengths offices type (承诺内容 about
40 characters, 措施 about 60: "typical"; three times that: "long") and read back with poppler:
pdftotext for the text of each page, its -bbox words for type sizes and positions, and pdftoppm
for the pixels of the table's frame. Never the bytes.
"""
import datetime
import io
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from PIL import Image

from commitments import pdf
from commitments.models import Commitment, Item
from commitments.services.lifecycle import commitment_publish, commitment_submit
from core.templatetags.cn import cn_date
from tests.commitments.test_pdf import NOTE1, NOTE2, approve, embedded_fonts, flat, pages
from tests.conftest import make_commitment, make_member

CONTENT = "认真贯彻落实科学发展观，围绕中心服务大局，切实为群众办实事好事，推动各项工作上新台阶，努力创建五个好党支部。"
MEASURES = ("每月召开一次专题会议研究部署，明确专人负责，建立工作台账，定期检查通报进展情况，年底前对照目标逐项总结验收，"
            "确保取得实效并接受群众监督。")
LENGTHS = {"typical": (40, 60), "long": (120, 180)}
COPIES = {pdf.ANNEX1: ("本组织存", "上一级党组织存", "公示"), pdf.ANNEX2: ("本人存", "党组织存", "公示")}
TITLES = {pdf.ANNEX1: "基层党组织公开承诺书", pdf.ANNEX2: "党员公开承诺书"}
MIN_BODY_PT = 10.5   # 五号
TITLE_PT = 22        # 二号, unchanged
A4_PT = (595.28, 841.89)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SITE_URL = "https://gongkai.example.gov.cn"
    return tmp_path


def text_of(n: int, length: int, base: str, marker: str) -> str:
    """`length` characters that start with a marker naming the item, so a page's text tells which
    item (and which end of it) it holds."""
    head = f"{marker}{n}开头"
    tail = f"{marker}{n}结尾"
    body = (base * (length // len(base) + 2))[:max(0, length - len(head) - len(tail))]
    return head + body + tail


def committed(world, *, kind, items, length="typical", owner=None, drafter=None):
    """A commitment of `items` items of `length`, submitted and approved through the services."""
    drafter = drafter or world.staff_a
    content_len, measures_len = LENGTHS[length]
    if kind == pdf.ANNEX1:
        c = make_commitment(world.campaign, organisation=owner or world.branch_a, status="draft", items=0,
                            goal="创建“五个好”党支部，争当服务群众先锋", actor=drafter)
        reviewer = world.committee_secretary
    else:
        c = make_commitment(world.campaign, member=owner or make_member(world.branch_a, "周海燕", gender="F"),
                            status="draft", items=0, goal="争当优秀共产党员，立足岗位发挥先锋模范作用",
                            actor=drafter)
        reviewer = world.secretary_a
    for n in range(1, items + 1):
        Item.objects.create(commitment=c, position=n, deadline=datetime.date(2010, 12, 31),
                            content=text_of(n, content_len, CONTENT, "事项"),
                            measures=text_of(n, measures_len, MEASURES, "措施"),
                            responsible="支部书记 王某某" if kind == pdf.ANNEX1 else "")
    commitment_submit(actor=drafter, commitment=c, version=c.version, consent="in_person")
    c.refresh_from_db()
    approve(c, reviewer)
    return c


def printed(commitment) -> bytes:
    data, _ = pdf.form_pdf(pdf.form_for(Commitment.objects.select_related(
        "organisation", "member", "member__branch", "public_version").get(pk=commitment.pk)))
    return data


def words(data: bytes) -> list[list[dict]]:
    """The words of each page with their boxes (points, from the top left) and type size."""
    out = subprocess.run(["pdftotext", "-bbox", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True,
                         check=True).stdout.decode()
    xhtml = re.sub(r'\sxmlns="[^"]+"', "", out, count=1)
    result = []
    for page in ET.fromstring(xhtml).iter("page"):
        result.append([{"text": w.text or "", "x": float(w.get("xMin")), "y": float(w.get("yMin")),
                        "bottom": float(w.get("yMax")), "size": float(w.get("yMax")) - float(w.get("yMin"))}
                       for w in page.iter("word")])
    return result


def copy_pages(data: bytes, kind: str) -> list[list[str]]:
    """The flattened text of each page, grouped by copy (each copy starts with 附件N：)."""
    copies = []
    for text in pages(data, "-layout"):
        if flat(text).startswith(("附件1：", "附件2：")):
            copies.append([])
        copies[-1].append(flat(text))
    assert len(copies) == 3
    return copies


# --- one A4 sheet per copy for ordinary content ----------------------------------------------------

@pytest.mark.parametrize("kind,items", [(pdf.ANNEX1, 1), (pdf.ANNEX1, 3), (pdf.ANNEX1, 5),
                                        (pdf.ANNEX2, 1), (pdf.ANNEX2, 3), (pdf.ANNEX2, 6)])
def test_ordinary_content_fits_one_sheet_per_copy(world, kind, items):
    c = committed(world, kind=kind, items=items)
    decision = c.decisions.get()
    data = printed(c)
    note = NOTE1 if kind == pdf.ANNEX1 else NOTE2
    text = [flat(p) for p in pages(data)]
    assert len(text) == 3, f"{kind} with {items} items takes {len(text)} pages"
    for page, copy in zip(text, COPIES[kind]):
        assert TITLES[kind] in page and copy in page and note in page and "（续）" not in page
        for n in range(1, items + 1):
            assert f"事项{n}开头" in page and f"事项{n}结尾" in page and f"措施{n}结尾" in page
        assert "第1页共1页" in page
        today = cn_date(timezone.localdate())
        assert f"第1版·审定于{cn_date(decision.decided_at)}·打印于{today}" in page
    # Legible: nothing of the form below 五号 (the version line and the QR code's address are
    # marks for matching paper to the system, not the form); the title at its annex size.
    for page in words(data):
        form_words = [w for w in page if w["y"] < A4_PT[1] - 13 / 25.4 * 72 and "http" not in w["text"]]
        assert min(w["size"] for w in form_words) >= MIN_BODY_PT - 0.01
        assert any(w["text"].startswith(TITLES[kind][:4]) and abs(w["size"] - TITLE_PT) < 0.01 for w in page)


def test_a_short_commitment_is_set_larger_than_a_full_one(world):
    short = words(printed(committed(world, kind=pdf.ANNEX1, items=1)))[0]
    full = words(printed(committed(world, kind=pdf.ANNEX1, items=5, owner=world.branch_b,
                                   drafter=world.secretary_b)))[0]

    def body_size(page):
        return next(w["size"] for w in page if "事项1开头" in w["text"])

    assert body_size(short) == pytest.approx(14, abs=0.01)  # 四号, as roomy as the annex
    assert MIN_BODY_PT <= body_size(full) < body_size(short)


def test_a_one_sheet_copy_fills_the_sheet(world):
    """The table runs to the foot of the sheet, as the annex does, whatever the number of items
    (none, on a blank form): the foot note sits within a few millimetres of the bottom margin."""
    sheets = [printed(committed(world, kind=kind, items=items)) for kind, items in ((pdf.ANNEX1, 1), (pdf.ANNEX2, 4))]
    sheets += [pdf.form_pdf(pdf.blank_form(kind))[0] for kind in (pdf.ANNEX1, pdf.ANNEX2)]
    for data in sheets:
        page = words(data)[0]
        note = max(w["bottom"] for w in page if w["text"].startswith("注"))
        bottom_margin = A4_PT[1] - pdf.MARGINS_MM[2] / 25.4 * 72
        assert 0 < bottom_margin - note < 6 / 25.4 * 72


def test_the_fit_never_goes_below_the_smallest_density_and_runs_on_past_it(world):
    one = pdf.form_for(committed(world, kind=pdf.ANNEX2, items=6))
    many = pdf.form_for(committed(world, kind=pdf.ANNEX2, items=12, length="long",
                                  owner=make_member(world.branch_a, "孙立", gender="M")))
    fits = pdf.fit_forms(pdf._document_context([one, many], title="")["forms"])
    assert fits[0].pages == 1 and fits[0].density < len(pdf.DENSITIES)
    assert fits[1].pages > 1 and fits[1].density == pdf.RUN_ON_DENSITY and fits[1].fill_mm == 0


# --- continuation pages -----------------------------------------------------------------------------

@pytest.mark.parametrize("kind", [pdf.ANNEX1, pdf.ANNEX2])
def test_long_content_runs_on_with_proper_continuation_pages(world, kind):
    c = committed(world, kind=kind, items=12, length="long")
    decision = c.decisions.get()
    data = printed(c)
    owner = c.owner_name
    copies = copy_pages(data, kind)
    m = len(copies[0])
    assert m > 1 and all(len(copy) == m for copy in copies)
    for copy, label in zip(copies, COPIES[kind]):
        for n, page in enumerate(copy, start=1):
            assert f"第{n}页共{m}页" in page
            assert f"第1版·审定于{cn_date(decision.decided_at)}" in page
            if n == 1:
                assert page.startswith(f"{'附件1' if kind == pdf.ANNEX1 else '附件2'}：{label}{TITLES[kind]}")
                assert "（续）" not in page
            else:
                # The head of every continuation page: the owner, the title with （续）, the copy.
                assert page.startswith(f"{owner}{TITLES[kind]}（续）{label}"), page[:60]
        # No item is split: each item's beginning and end are on the same page.
        for n in range(1, 13):
            where = {marker: [i for i, page in enumerate(copy) if marker in page]
                     for marker in (f"事项{n}开头", f"事项{n}结尾", f"措施{n}开头", f"措施{n}结尾")}
            assert all(len(found) == 1 for found in where.values()), where
            assert len({found[0] for found in where.values()}) == 1, (n, where)
        # The mark and its date stay with the last item; the 审定意见 with its seal and date; the
        # foot note with them on the last page.
        last = copy[-1]
        mark = "（盖章）" if kind == pdf.ANNEX1 else "（签名）"
        assert "事项12结尾" in last and f"{mark}{cn_date(c.versions.get().submitted_at)}" in last
        opinion = flat(decision.opinion)
        assert opinion in last and f"（盖章）{cn_date(decision.decided_at)}" in last
        assert ("上级党" if kind == pdf.ANNEX1 else "支部审定意见") in last
        assert (NOTE1 if kind == pdf.ANNEX1 else NOTE2) in last
        assert all(opinion not in page and "审定意见" not in page for page in copy[:-1])


def _frame(png: bytes):
    """(rows, columns) of the page image that are ruled across / down most of the table's width."""
    image = Image.open(io.BytesIO(png)).convert("L")
    width, height = image.size
    left, right = int(width * 28 / 210), int(width * 182 / 210)  # inside the 25–190 mm table
    pixels = image.load()
    rows = [y for y in range(height)
            if sum(pixels[x, y] < 128 for x in range(left, right)) > 0.97 * (right - left)]
    return image, rows


def test_the_table_is_closed_at_every_break(world, tmp_path):
    """Each sheet of a copy that runs on shows a closed frame: a rule across the table below the
    last text of the sheet, and one above the first text of the next, below the continuation head."""
    data = printed(committed(world, kind=pdf.ANNEX2, items=12, length="long"))
    m = len(copy_pages(data, pdf.ANNEX2)[0])
    top_margin = pdf.MARGINS_MM[0] / 297
    for n in range(m):
        subprocess.run(["pdftoppm", "-r", "100", "-gray", "-png", "-singlefile", "-f", str(n + 1), "-l", str(n + 1),
                        "-", str(tmp_path / "page")], input=data, capture_output=True, check=True)
        png = (tmp_path / "page.png").read_bytes()
        image, rules = _frame(png)
        height = image.size[1]
        body = [y for y in range(int(height * top_margin), int(height * (1 - pdf.MARGINS_MM[2] / 297)))
                if any(image.getpixel((x, y)) < 128 for x in range(int(image.size[0] * 0.2), int(image.size[0] * 0.8), 3))]
        table_rules = [y for y in rules if y >= height * top_margin - 2]
        assert table_rules, f"page {n + 1}: no rule across the table"
        if n + 1 < m:  # the sheet's last row is closed
            last_text = max(body)
            assert max(table_rules) >= last_text - 2, f"page {n + 1} is open at the foot"
        if n > 0:  # the next sheet opens with the frame, under the continuation head
            first_text = min(y for y in body if y > min(table_rules) - 3)
            assert min(table_rules) <= first_text + 2, f"page {n + 1} is open at the top"


def test_a_single_item_longer_than_a_sheet_is_split_rather_than_lost(world):
    c = make_commitment(world.campaign, member=make_member(world.branch_a, "钱多多"), status="draft", items=0,
                        actor=world.staff_a)
    Item.objects.create(commitment=c, position=1, deadline=datetime.date(2010, 12, 31),
                        content=text_of(1, 2400, CONTENT, "事项"), measures=text_of(1, 1200, MEASURES, "措施"))
    commitment_submit(actor=world.staff_a, commitment=c, version=c.version, consent="in_person")
    c.refresh_from_db()
    approve(c, world.secretary_a)
    copies = copy_pages(printed(c), pdf.ANNEX2)
    text = "".join(copies[0])
    assert len(copies[0]) > 1 and "事项1开头" in text and "措施1结尾" in text and NOTE2 in copies[0][-1]


# --- dates that cannot contradict each other ----------------------------------------------------------

def test_a_publication_date_before_the_approval_is_refused(world):
    c = committed(world, kind=pdf.ANNEX2, items=1)
    approved_on = timezone.localdate(c.decided_at)
    with pytest.raises(ValidationError) as caught:
        commitment_publish(actor=world.staff_a, commitment=c, version=c.version,
                           published_on=approved_on - datetime.timedelta(days=1), channels=["noticeboard"])
    assert caught.value.message_dict == {"published_on": [f"公开日期不能早于审定日期（{cn_date(approved_on)}）。"]}
    c.refresh_from_db()
    assert c.status == "approved"
    commitment_publish(actor=world.staff_a, commitment=c, version=c.version, published_on=approved_on,
                       channels=["noticeboard"])


def test_the_publish_page_says_why_an_early_date_is_refused(world, as_user):
    from django.urls import reverse

    c = committed(world, kind=pdf.ANNEX2, items=1)
    early = timezone.localdate(c.decided_at) - datetime.timedelta(days=5)
    response = as_user(world.staff_a).post(reverse("commitments:publish", args=[c.pk]), {
        "version": c.version, "published_on": early.isoformat(), "channels": ["noticeboard"]}, follow=True)
    assert response.status_code == 200
    assert f"公开日期不能早于审定日期（{cn_date(c.decided_at)}）" in response.content.decode()
    c.refresh_from_db()
    assert c.status == "approved"


def test_the_footer_names_the_version_printed(world):
    c = committed(world, kind=pdf.ANNEX2, items=2)
    from tests.commitments.test_pdf import _revise_and_resubmit

    c.refresh_from_db()
    commitment_publish(actor=world.staff_a, commitment=c, version=c.version, published_on=timezone.localdate(),
                       channels=["noticeboard"])
    _revise_and_resubmit(world, c, "第二版的争当目标")
    second = approve(c, world.secretary_a, opinion="同意修订。")
    text = [flat(p) for p in pages(printed(c))]
    assert all(f"第2版·审定于{cn_date(second.decided_at)}·打印于{cn_date(timezone.localdate())}" in p for p in text)
    assert all("第二版的争当目标" in p for p in text)


def test_a_reprint_on_another_day_says_so(world, monkeypatch):
    c = committed(world, kind=pdf.ANNEX2, items=1)
    first = flat(pages(printed(c))[0])
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    monkeypatch.setattr(timezone, "localdate", lambda *args: tomorrow if not args else datetime.date.today())
    second = flat(pages(printed(c))[0])
    assert f"打印于{cn_date(tomorrow)}" in second and f"打印于{cn_date(tomorrow)}" not in first


# --- every character a name can contain ----------------------------------------------------------------

RARE_NAMES = {
    "𠮷田": "Extension B",
    "王𪨶": "Extension C",
    "李𫠠": "Extension E",
    "陈𬌗": "Extension F",
    "刘䶮": "Extension A (GB 18030-2005)",
    "张﨎": "CJK compatibility ideograph",
    "赵龑": "Unified, outside GB2312",
}


def test_names_from_every_cjk_extension_print_in_the_vendored_faces(world):
    names = list(RARE_NAMES)
    members = [make_member(world.branch_a, name, gender="M") for name in names]
    forms = []
    for member in members:
        forms.append(pdf.form_for(committed(world, kind=pdf.ANNEX2, items=1, owner=member)))
    data = pdf.forms_pdf(forms, title="t")
    text = flat("".join(pages(data, "-raw")))
    for name in names:
        assert text.count(name) >= 3, (name, RARE_NAMES[name])
    fonts = embedded_fonts(data)
    assert "CJKExtNames-Regular" in fonts
    assert fonts <= {"FandolSong-Bold-GB2312", "FandolFang-Regular-GB2312", "FandolHei-Regular-GB2312",
                     "NotoSerifCJKsc-Regular-Names", "CJKExtNames-Regular"}


def test_the_vendored_faces_cover_every_ideograph_of_gb18030():
    """Every CJK ideograph GB 18030-2022 encodes as a character (the Unified block, Extensions A to
    F, the compatibility ideographs and their supplement) has a glyph in one of the vendored faces,
    so the body text never falls back to whatever the server has installed."""
    from django.conf import settings
    from fontTools.ttLib import TTFont

    folder = settings.BASE_DIR / "static" / "fonts"
    covered = set()
    for name in ("FandolFang-Regular-GB2312.otf", "NotoSerifCJKsc-Regular-Names.otf", "CJKExtNames-Regular.ttf"):
        covered |= set(TTFont(folder / name, lazy=True).getBestCmap())
    blocks = {"URO": (0x4E00, 0x9FA5), "A": (0x3400, 0x4DB5), "B": (0x20000, 0x2A6D6), "C": (0x2A700, 0x2B734),
              "D": (0x2B740, 0x2B81D), "E": (0x2B820, 0x2CEA1), "F": (0x2CEB0, 0x2EBE0),
              "compatibility": (0xFA0E, 0xFA29)}
    for block, (first, last) in blocks.items():
        missing = [f"U+{c:04X}" for c in range(first, last + 1) if c not in covered]
        assert not missing, (block, missing[:10], len(missing))


# --- dates to the precision the roster gave ------------------------------------------------------------

def test_the_form_prints_the_party_dates_as_precisely_as_they_were_recorded(world):
    from orgs.models import DatePrecision

    by_month = make_member(world.branch_a, "吴月", joined_party_on=datetime.date(2016, 7, 1),
                           joined_party_precision=DatePrecision.MONTH)
    by_day = make_member(world.branch_a, "郑日", joined_party_on=datetime.date(2016, 7, 1))
    month_page = flat(pages(printed(committed(world, kind=pdf.ANNEX2, items=1, owner=by_month)), "-layout")[0])
    day_page = flat(pages(printed(committed(world, kind=pdf.ANNEX2, items=1, owner=by_day)), "-layout")[0])
    assert "入党时间2016年7月" in month_page and "2016年7月1日" not in month_page
    assert "入党时间2016年7月1日" in day_page
