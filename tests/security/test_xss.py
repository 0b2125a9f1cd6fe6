"""User text is shown as text everywhere: hostile input goes in through the real services and
views (member name, commitment goal and items, a suggestion in the public box, a progress
record, a review opinion) and comes out escaped on internal and public pages, literal in the
PDF, the e-mails and the Excel exports, and never evaluated as a template."""
import datetime
import io
import re
import subprocess
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from openpyxl import load_workbook

from commitments import services as commitment_services
from commitments.models import Commitment, Suggestion
from orgs import services as org_services
from reviews.services import review_decide
from tests.commitments.publishing import ALL_TICKED
from tests.conftest import login
from tests.security.test_headers import inline_problems

PAYLOADS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "{{ 7*7 }}", "{% debug %}",
            "\"'><svg/onload=alert(1)>"]


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


class Story:
    """Everything one payload went into, with the ids to look at it."""


@pytest.fixture(params=PAYLOADS, ids=["script", "img-onerror", "template-expr", "template-tag", "attr-breakout"])
def story(request, world, django_capture_on_commit_callbacks):
    p = request.param
    s = Story()
    s.p = p
    for user, address in ((world.staff_a, "staff_a@example.gov.cn"), (world.secretary_a, "sec_a@example.gov.cn")):
        user.email = address
        user.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        # A member registered by an officer, with the payload as the name.
        s.member = org_services.member_create(actor=world.staff_a, branch=world.branch_a, data=dict(
            name=p, gender="M", birth_month=datetime.date(1980, 5, 1), post=f"科员{p}",
            joined_party_on=datetime.date(2003, 7, 1), category="general", status="active", note=""))
        # A second one who has not pledged: a blank spot (空白点) in the coverage export.
        s.blank = org_services.member_create(actor=world.staff_a, branch=world.branch_a, data=dict(
            name=f"{p} B", gender="F", birth_month=datetime.date(1985, 5, 1), post="科员",
            joined_party_on=datetime.date(2008, 7, 1), category="general", status="active", note=""))
        # The pledge: drafted, submitted, returned with an opinion, resubmitted, approved, published.
        c = commitment_services.commitment_start(actor=world.staff_a, campaign=world.campaign, member=s.member)
        item = {"content": f"承诺事项：{p}", "measures": f"措施：{p}", "deadline": datetime.date(2010, 12, 31),
                "responsible": ""}
        c = commitment_services.commitment_save_draft(actor=world.staff_a, commitment=c, version=c.version,
                                                      goal=f"争当先锋{p}", items=[item])
        commitment_services.commitment_submit(actor=world.staff_a, commitment=c, version=c.version, consent="in_person")
        c.refresh_from_db()
        review_decide(actor=world.secretary_a, commitment=c, version=c.version, decision="return", criteria={},
                      opinion=f"请修改：{p}")
        c.refresh_from_db()
        items = [{"id": i.pk, "content": i.content, "measures": i.measures, "deadline": i.deadline,
                  "responsible": ""} for i in c.items.all()]
        c = commitment_services.commitment_save_draft(actor=world.staff_a, commitment=c, version=c.version,
                                                      goal=c.goal, items=items)
        commitment_services.commitment_submit(actor=world.staff_a, commitment=c, version=c.version, consent="in_person")
        c.refresh_from_db()
        review_decide(actor=world.secretary_a, commitment=c, version=c.version, decision="approve",
                      criteria=ALL_TICKED, opinion=f"同意：{p}")
        c.refresh_from_db()
    commitment_services.commitment_publish(actor=world.staff_a, commitment=c, version=c.version,
                                           published_on=datetime.date.today(), channels=["internet"])
    c.refresh_from_db()
    s.commitment = c
    # A public progress record.
    commitment_services.progress_record(actor=world.staff_a, commitment=c, item_id=c.items.get().pk,
                                        happened_on=datetime.date(2010, 11, 1), done=f"走访群众{p}",
                                        effect=f"效果{p}", visibility="public")
    # A suggestion dropped into the public box by an anonymous visitor.
    response = Client().post(reverse("commitments:suggest", args=[world.branch_a.pk]),
                             {"content": f"建议多走访{p}", "contact": f"电话{p}"[:100], "website": ""})
    assert response.status_code == 302
    s.suggestion = Suggestion.objects.get()
    return s


def texts(s) -> list[str]:
    """The stored values (after the services' own cleaning) the outputs should show."""
    c = Commitment.objects.get(pk=s.commitment.pk)
    return [s.member.name, c.goal, c.items.get().content, s.suggestion.content]


def assert_escaped_page(client, url, s, must_show: list[str]):
    response = client.get(url)
    assert response.status_code == 200, url
    html = body(response).decode()
    if "<" in s.p or '"' in s.p:
        assert s.p not in html, f"raw payload on {url}"
    for value in must_show:
        assert escape(value) in html, (url, value)
    assert "sql_queries" not in html  # {% debug %} never ran
    assert inline_problems(html) == []


def test_internal_pages_escape_user_text(world, story):
    s, c = story, story.commitment
    client = login(Client(), world.secretary_a)
    name, goal, item, suggestion = texts(s)
    decision_opinions = [f"请修改：{s.p}".strip(), f"同意：{s.p}".strip()]
    pages = [
        (reverse("orgs:member_detail", args=[s.member.pk]), [name]),
        (reverse("orgs:member_list") + f"?branch={world.branch_a.pk}", []),
        (reverse("commitments:detail", args=[c.pk]), [name, goal, item, *decision_opinions]),
        (reverse("commitments:version", args=[c.pk, 1]), [goal, item]),
        (reverse("commitments:progress", args=[c.pk]), [f"走访群众{s.p}".strip()]),
        (reverse("commitments:list"), []),
        (reverse("commitments:branch_pledges", args=[world.branch_a.pk]), [name]),
        (reverse("commitments:opinion_list", args=[world.branch_a.pk]), []),
        (reverse("commitments:opinion_detail", args=[s.suggestion.pk]), [suggestion]),
        (reverse("home"), []),
    ]
    for url, must_show in pages:
        assert_escaped_page(client, url, s, must_show)


def test_public_pages_escape_user_text(world, story):
    s, c = story, story.commitment
    client = Client()
    name, goal, item, _ = texts(s)
    for url, must_show in [
        (reverse("portal:noticeboard"), []),
        (reverse("portal:noticeboard") + "?" + urlencode({"q": s.p}), [s.p]),
        (reverse("portal:public_org", args=[world.branch_a.pk]), [name]),
        (reverse("portal:public_commitment", args=[c.pk]), [name, goal, item]),
        (reverse("commitments:public_progress", args=[c.pk]), [f"走访群众{s.p}".strip()]),
        (reverse("commitments:suggest", args=[world.branch_a.pk]), []),
    ]:
        assert_escaped_page(client, url, s, must_show)


def test_form_errors_echo_input_escaped(world, story):
    # The box shows a too-long submission back in the form: escaped, like everything else.
    response = Client().post(reverse("commitments:suggest", args=[world.branch_a.pk]),
                             {"content": s_long(story.p), "contact": "", "website": ""})
    assert response.status_code == 200
    html = response.content.decode()
    if "<" in story.p:
        assert story.p not in html
    assert escape(story.p) in html
    assert inline_problems(html) == []


def s_long(p: str) -> str:
    return (p + "意见") * (1000 // (len(p) + 2) + 1)


def test_pdf_prints_user_text_literally(world, story):
    s, c = story, story.commitment
    response = login(Client(), world.secretary_a).get(reverse("commitments:form_pdf", args=[c.pk]))
    assert response.status_code == 200
    data = body(response)
    assert data.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True,
                          check=True).stdout.decode()
    name, goal, item, _ = texts(s)
    for value in (name, goal, item, f"同意：{s.p}"):
        assert flat(value) in flat(text), value
    assert escape(s.p) == s.p or flat(escape(s.p)) not in flat(text)  # not double-escaped
    assert b"/JavaScript" not in data and b"/JS " not in data and b"/OpenAction" not in data


def test_emails_carry_user_text_as_plain_text(world, story):
    s = story
    sent = [m for m in mail.outbox if s.member.name in m.subject or s.member.name in m.body]
    # submitted twice (to the secretary), returned and approved (to the drafter)
    assert len(sent) >= 4, [m.subject for m in mail.outbox]
    for message in sent:
        assert s.member.name in message.subject
        assert message.content_subtype == "plain"
        for content, mimetype in getattr(message, "alternatives", []):
            assert mimetype != "text/html" or s.p not in content
        assert "&lt;" not in message.body and "&amp;" not in message.subject  # literal, not HTML-escaped


def _cells_with(data: bytes, needle: str) -> list:
    workbook = load_workbook(io.BytesIO(data))
    return [cell for ws in workbook.worksheets for row in ws.iter_rows() for cell in row
            if isinstance(cell.value, str) and needle in cell.value]


def test_excel_exports_hold_user_text_as_literal_strings(world, story):
    s = story
    client = login(Client(), world.secretary_a)
    name, goal, item, _ = texts(s)
    ledger = client.get(reverse("portal:ledger_xlsx"), {"org": world.branch_a.pk})
    assert ledger.status_code == 200
    data = body(ledger)
    for value in (name, goal, item):
        cells = _cells_with(data, value)
        assert cells, value
        assert {cell.data_type for cell in cells} == {"s"}
    coverage = client.get(reverse("portal:coverage_xlsx"), {"org": world.branch_a.pk})
    assert coverage.status_code == 200
    cells = _cells_with(body(coverage), s.blank.name)
    assert cells and {cell.data_type for cell in cells} == {"s"}
    assert s.blank.name in [cell.value for cell in cells]
