"""The review queue's organisation picker (orgs/fields.py): a short select of the top
organisations and their children, a name/code box checked against the reviewer's scope, and
suggestions from orgs:org_suggest."""
import re

from django.urls import reverse

from orgs.models import OrgKind
from tests.conftest import make_org

from .builders import submitted

QUEUE = reverse("reviews:queue")
SUGGEST = reverse("orgs:org_suggest")


def _options(html):
    select = re.search(r'<select name="org".*?</select>', html, re.S).group(0)
    return [name.strip("　") for name in re.findall(r"<option value=\"\d+\"[^>]*>([^<]+)</option>", select)]


def _selected(html):
    return re.search(r'<option value="(\d+)" selected>', html).group(1)


def test_select_lists_the_top_and_its_children_only(world, as_user):
    html = as_user(world.city_secretary).get(QUEUE).content.decode()
    assert _options(html) == ["中共珠海市直属机关工作委员会", "市某局机关党委", "市另一局党组"]
    # The box beside it has its own label and suggests from the reviewer's scope.
    assert '<label class="visually-hidden" for="id_org_q">按名称或编码查找党组织</label>' in html
    assert f'data-org-suggest="{SUGGEST}?scope=review"' in html
    assert 'src="/static/js/org-picker.js"' in html


def test_a_deep_organisation_chosen_by_id_is_added_to_the_select(world, as_user):
    submitted(world, member=world.member_c)
    html = as_user(world.city_secretary).get(QUEUE, {"org": world.branch_c.pk, "subtree": "on"}).content.decode()
    assert "第三党支部" in _options(html) and _selected(html) == str(world.branch_c.pk)
    assert "陈喆" in html


def test_name_or_code_picks_the_organisation(world, as_user):
    submitted(world, member=world.member_c)
    submitted(world, member=world.member_b)
    client = as_user(world.committee_secretary)
    for text in ("第三党支部", "第三", "c1-g-c", "第三党支部（C1-G-C）"):
        html = client.get(QUEUE, {"org_q": text, "subtree": "on"}).content.decode()
        assert "陈喆" in html and "张伟" not in html, text
        assert _selected(html) == str(world.branch_c.pk), text
        assert 'name="org_q" id="id_org_q" value=""' in html  # resolved: the box is emptied
    # The name wins over the select (the box is what was typed last).
    html = client.get(QUEUE, {"org": world.branch_b.pk, "org_q": "第三", "subtree": "on"}).content.decode()
    assert "陈喆" in html and "张伟" not in html


def test_no_match_or_several_is_a_chinese_error_not_a_404(world, as_user):
    submitted(world, member=world.member_b)
    client = as_user(world.committee_secretary)
    response = client.get(QUEUE, {"org_q": "不存在的组织", "subtree": "on"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "您可查看的党组织中没有名称含“不存在的组织”或编码为“不存在的组织”的，请检查后重新输入。" in html
    assert 'aria-invalid="true"' in html and 'value="不存在的组织"' in html
    assert "张伟" in html  # the filter is left out, the other filters still apply
    html = client.get(QUEUE, {"org_q": "党支部"}).content.decode()
    assert "有多个党组织符合“党支部”：第一党支部（C1-A）、第二党支部（C1-B）、第三党支部（C1-G-C），" in html
    assert "请输入更完整的名称或组织编码" in html


def test_text_outside_scope_matches_nothing(world, as_user):
    # 第四党支部 exists but belongs to the other committee: not found, as for a missing name.
    html = as_user(world.committee_secretary).get(QUEUE, {"org_q": "C2-D"}).content.decode()
    assert "或编码为“C2-D”的" in html
    # An id outside the scope stays a 404, as before.
    assert as_user(world.committee_secretary).get(QUEUE, {"org": world.branch_d.pk}).status_code == 404
    assert as_user(world.committee_secretary).get(QUEUE, {"org": "abc"}).status_code == 404


def test_many_children_are_searched_not_listed(world, as_user):
    for i in range(12):
        make_org(world.committee, f"新建第{i}党支部", OrgKind.BRANCH, code=f"N{i}")
    html = as_user(world.committee_secretary).get(QUEUE).content.decode()
    assert len(_options(html)) == 1 + 3 + 12  # still top + children; grandchildren never
    assert "第三党支部" not in _options(html)


def test_suggestions_are_scoped_and_carry_the_path(world, as_user):
    data = as_user(world.committee_secretary).get(SUGGEST, {"q": "党支部", "scope": "review"}).json()
    assert [r["value"] for r in data["results"]] == ["第一党支部（C1-A）", "第二党支部（C1-B）", "第三党支部（C1-G-C）"]
    assert data["results"][2]["label"] == "中共珠海市直属机关工作委员会 › 市某局机关党委 › 综合党总支 › 第三党支部"
    assert as_user(world.secretary_a).get(SUGGEST, {"q": "第二"}).json() == {"results": []}
    assert as_user(world.secretary_a).get(SUGGEST, {"q": ""}).json() == {"results": []}
    # No role of the scope asked for, or an unknown scope: 404, as for the queue itself.
    assert as_user(world.staff_a).get(SUGGEST, {"q": "第一", "scope": "review"}).status_code == 404
    assert as_user(world.staff_a).get(SUGGEST, {"q": "第一", "scope": "nope"}).status_code == 404
    assert as_user(world.staff_a).get(SUGGEST, {"q": "第一"}).json()["results"][0]["value"] == "第一党支部（C1-A）"


# --- the same picker on the other filter forms -------------------------------------------------

def test_member_register_filters_by_typed_name(world, as_user):
    client = as_user(world.committee_secretary)
    html = client.get(reverse("orgs:member_list"), {"org_q": "第二党支部"}).content.decode()
    assert "张伟" in html and "李娜" not in html
    assert _selected(html) == str(world.branch_b.pk)
    response = client.get(reverse("orgs:member_list"), {"org_q": "第四党支部"})  # another committee's
    assert response.status_code == 200 and "没有名称含“第四党支部”" in response.content.decode()
    assert client.get(reverse("orgs:member_list"), {"org": world.branch_d.pk}).status_code == 404


def test_audit_viewer_filters_by_code_within_the_auditors_scope(world, as_user):
    from orgs import audit
    audit.record(actor=world.admin, action="org.update", obj=world.branch_c, organisation=world.branch_c)
    audit.record(actor=world.admin, action="org.update", obj=world.branch_d, organisation=world.branch_d)
    client = as_user(world.auditor)
    html = client.get(reverse("orgs:audit_list"), {"org_q": "C1-G"}).content.decode()
    assert "第三党支部" in html and "第四党支部" not in html
    assert 'data-org-suggest="/orgs/suggest/?scope=audit"' in html
    assert as_user(world.auditor).get(SUGGEST, {"q": "C2-D", "scope": "audit"}).json()["results"][0]["value"] \
        == "第四党支部（C2-D）"


def test_evaluation_list_takes_the_picker_and_404s_only_on_an_id(world, as_user):
    client = as_user(world.committee_secretary)
    html = client.get(reverse("evaluations:list"), {"org_q": "第三"}).content.decode()
    assert _selected(html) == str(world.branch_c.pk)
    html = client.get(reverse("evaluations:list"), {"org_q": "没有这个"}).content.decode()
    assert "没有名称含“没有这个”" in html
    assert client.get(reverse("evaluations:list"), {"org": world.branch_d.pk}).status_code == 404
