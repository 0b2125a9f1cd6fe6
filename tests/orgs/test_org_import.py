"""组织架构导入: header variants, parents in any order, same-name branches told apart by parent,
updates without moves, all-or-nothing with the row named, hostile files, and the pages."""
import io

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core.errors import Conflict
from orgs import org_import, services
from orgs.models import AuditEvent, Organisation, OrgKind, Role
from tests.conftest import make_user
from tests.orgs.test_roster_import import billion_laughs, excel_xlsx, openpyxl_xlsx, upload


def prepare(actor, rows, builder=openpyxl_xlsx, name="组织.xlsx"):
    token = org_import.org_import_prepare(actor=actor, upload=upload(builder(rows), name))
    from orgs.roster_import import plan_for
    return token, plan_for(actor=actor, token=token, kind="orgs")


def by_row(plan):
    return {r["row"]: r for r in plan["results"]}


def org_named(name, parent=None):
    qs = Organisation.objects.filter(name=name)
    if parent is not None:
        qs = qs.filter(parent=parent)
    return qs.get()


# --- reading and planning -------------------------------------------------------------------

@pytest.mark.django_db
def test_a_new_subtree_with_children_listed_before_parents(world):
    rows = [["序号", "组织名称", "上级组织", "组织类别", "编码", "监督电话"],
            [1, "新区第一党支部", "新区党总支", "支部", "", "0756-3330001"],
            [2, "新区党总支", "市某局机关党委", "党总支", "C1-N", ""],
            [3, "新区临时党支部", "C1-N", "", "", ""]]
    token, plan = prepare(world.admin, rows)
    assert plan["errors"] == []
    assert plan["counts"]["create"] == 3
    results = by_row(plan)
    assert results[4]["notes"] == ["未填组织类型，按名称推定为临时党支部"]
    assert "序号" in plan["ignored"]
    before = AuditEvent.objects.count()

    counts = org_import.org_import_apply(actor=world.admin, token=token)

    assert counts["created"] == 3
    general = org_named("新区党总支")
    assert (general.parent, general.kind, general.code) == (world.committee, OrgKind.GENERAL_BRANCH, "C1-N")
    branch = org_named("新区第一党支部")
    assert branch.parent == general and branch.kind == OrgKind.BRANCH
    assert branch.supervision_phone == "0756-3330001"
    assert branch.path.startswith(general.path) and branch.depth == general.depth + 1
    assert org_named("新区临时党支部").kind == OrgKind.TEMP_BRANCH
    assert general.version == 1 and general.code == "C1-N" and branch.code == f"Z{branch.pk:06d}"
    # One audit row for the import, naming every organisation it created.
    assert AuditEvent.objects.count() == before + 1
    summary = AuditEvent.objects.order_by("-id").first()
    assert (summary.action, summary.actor, summary.detail["created"]) == ("org.import", world.admin, 3)
    created = {pk for first, last in summary.detail["created_ids"] for pk in range(first, last + 1)}
    assert created == {general.pk, branch.pk, org_named("新区临时党支部").pk}
    assert summary.organisation == general


@pytest.mark.django_db
def test_same_name_branches_are_told_apart_by_parent_never_by_name(world):
    # 第一党支部 exists under the committee (C1-A); another committee may have its own.
    rows = [["党组织名称", "上级党组织", "监督电话"],
            ["第一党支部", "市另一局党组", ""],           # new, under C2
            ["第一党支部", "市某局机关党委", "0756-2129999"]]  # the existing C1-A: an update
    token, plan = prepare(world.admin, rows)
    results = by_row(plan)
    assert plan["errors"] == []
    assert results[2]["action"] == "create"
    assert results[3]["action"] == "update" and results[3]["org_id"] == world.branch_a.pk
    assert results[3]["changes"] == [["监督电话", "0756-2120001", "0756-2129999"]]
    org_import.org_import_apply(actor=world.admin, token=token)
    assert Organisation.objects.filter(name="第一党支部").count() == 2
    assert org_named("第一党支部", world.committee2).kind == OrgKind.BRANCH
    world.branch_a.refresh_from_db()
    assert world.branch_a.supervision_phone == "0756-2129999" and world.branch_a.version == 2


@pytest.mark.django_db
def test_a_full_export_including_the_existing_top_checks_without_changing(world):
    """An export from another system lists the whole tree, the top first, without a parent."""
    rows = [["党组织名称", "上级党组织", "组织类型", "组织编码"],
            ["中共珠海市直属机关工作委员会", "", "工委", "ROOT"],
            ["市某局机关党委", "中共珠海市直属机关工作委员会", "党委", ""],
            ["第二党支部", "市某局机关党委", "党支部", "C1-B"],
            ["第五党支部", "市某局机关党委", "党支部", ""]]
    token, plan = prepare(world.admin, rows, builder=excel_xlsx)
    results = by_row(plan)
    assert plan["errors"] == []
    assert [results[n]["action"] for n in (2, 3, 4, 5)] == ["same", "same", "same", "create"]
    assert results[3]["org_id"] == world.committee.pk
    counts = org_import.org_import_apply(actor=world.admin, token=token)
    fifth = org_named("第五党支部")
    assert counts == {"created": 1, "updated": 0, "unchanged": 3, "top_id": fifth.pk}
    assert fifth.parent == world.committee


@pytest.mark.django_db
def test_a_blank_cell_never_clears_and_a_code_matches_wherever_the_name_differs(world):
    rows = [["党组织名称", "上级党组织", "组织编码", "简称", "监督电话", "排序"],
            ["市某局第一党支部", "C1", "C1-A", "一支部", "", 5]]
    token, plan = prepare(world.admin, rows)
    result = by_row(plan)[2]
    assert result["action"] == "update"
    assert {c[0] for c in result["changes"]} == {"排序", "简称", "党组织名称"}
    org_import.org_import_apply(actor=world.admin, token=token)
    world.branch_a.refresh_from_db()
    assert (world.branch_a.name, world.branch_a.short_name, world.branch_a.sort_order) == ("市某局第一党支部", "一支部", 5)
    assert world.branch_a.supervision_phone == "0756-2120001"


@pytest.mark.django_db
def test_an_existing_organisation_is_never_moved_by_an_import(world):
    rows = [["党组织名称", "上级党组织", "组织编码"], ["第三党支部", "市某局机关党委", "C1-G-C"]]
    _, plan = prepare(world.admin, rows)
    assert len(plan["errors"]) == 1
    assert "第2行「上级党组织」" in plan["errors"][0]
    assert "现属“综合党总支”" in plan["errors"][0] and "调整隶属关系" in plan["errors"][0]


@pytest.mark.django_db
@pytest.mark.parametrize("rows, expected", [
    ([["新党支部", "不存在的党委", "党支部"]], "第2行「上级党组织」：找不到上级党组织“不存在的党委”"),
    ([["下级支部", "第二党支部", "党支部"]], "第2行「上级党组织」：上级是党支部，党支部下不能再设立党组织"),
    ([["新工委", "ROOT", "工委"]], "第2行「组织类型」：工委只能作为组织树的根"),
    ([["某某小组", "C1", ""]], "第2行「组织类型」：不能为空：无法从名称推定组织类型"),
    ([["某某党支部", "C1", "协会"]], "第2行「组织类型」：无法识别组织类型“协会”"),
    ([["", "C1", "党支部"]], "第2行「党组织名称」：不能为空"),
    ([["顶层党委", "", "党委"]], "第2行「上级党组织」：不能为空"),
    ([["甲党总支", "乙党总支", "党总支"], ["乙党总支", "甲党总支", "党总支"]], "上级关系形成循环：第2行→第3行→第2行"),
    ([["新党支部", "C1", "党支部"], ["新党支部", "市某局机关党委", "党支部"]], "第3行「党组织名称」：与第2行重复：同一上级下的同名党组织"),
    ([["甲党总支", "C1", "党总支"], ["甲党总支", "C2", "党总支"], ["丙党支部", "甲党总支", "党支部"]],
     "第4行「上级党组织」：表中有多行名为“甲党总支”（第2行、第3行），请改填上级的组织编码"),
    ([["新党支部", "C1", "党支部", "BAD CODE"]], "第2行「组织编码」：“BAD CODE”不是有效的组织编码"),
    ([["新党支部", "C1", "党支部", "X1"], ["另党支部", "C1", "党支部", "x1"]], "第3行「组织编码」：与第2行的组织编码相同"),
    ([["新党支部", "C1", "党支部", "", "12345678"]], "第2行「监督电话」"),
])
def test_bad_rows_are_named_by_row_and_column(world, rows, expected):
    header = ["党组织名称", "上级党组织", "组织类型", "组织编码", "监督电话"]
    _, plan = prepare(world.admin, [header] + rows)
    assert any(expected in e for e in plan["errors"]), plan["errors"]
    assert plan["rows"] == []  # a plan with errors keeps nothing to apply


@pytest.mark.django_db
def test_formula_text_is_refused(world):
    """Text typed as =… (as Excel stores it, a shared string) would run if exported again."""
    rows = [["党组织名称", "上级党组织"], ["新党支部", '=HYPERLINK("http://x","C1")']]
    _, plan = prepare(world.admin, rows, builder=excel_xlsx)
    assert len(plan["errors"]) == 1
    assert plan["errors"][0].startswith('第2行「上级党组织」：“=HYPERLINK("http:')
    assert plan["errors"][0].endswith("以“=”开头，像是公式，请改为文字")


@pytest.mark.django_db
def test_one_bad_row_among_many_writes_nothing_and_is_named(world):
    rows = [["党组织名称", "上级党组织"]] + [[f"测试第{n}党支部", "C1"] for n in range(1, 300)]
    rows[250][1] = "不存在的上级"
    token, plan = prepare(world.admin, rows)
    assert plan["counts"]["error"] == 1 and plan["counts"]["create"] == 298
    assert plan["errors"] == ["第251行「上级党组织」：找不到上级党组织“不存在的上级”，或您无权管理该组织；"
                              "请填写全称、简称或组织编码，或把上级也列在表中"]
    before = (Organisation.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationError):
        org_import.org_import_apply(actor=world.admin, token=token)
    assert (Organisation.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.django_db
def test_an_administrator_of_a_subtree_cannot_reach_or_take_codes_outside_it(world):
    local_admin = make_user("c1_admin", world.committee, Role.ADMIN)
    rows = [["党组织名称", "上级党组织", "组织编码"],
            ["新党支部", "市另一局党组", ""],
            ["又一党支部", "C1", "C2-D"]]
    _, plan = prepare(local_admin, rows)
    errors = " ".join(plan["errors"])
    assert "第2行「上级党组织」：找不到上级党组织“市另一局党组”，或您无权管理该组织" in errors
    assert "第3行「组织编码」：组织编码“C2-D”已被您管理范围以外的党组织使用" in errors


@pytest.mark.django_db
def test_only_system_administrators_import_organisations(world):
    for user in (world.staff_a, world.city_secretary, world.auditor):
        with pytest.raises(PermissionDenied):
            org_import.org_import_prepare(actor=user, upload=upload(openpyxl_xlsx([["党组织名称", "上级党组织"]])))


@pytest.mark.django_db
def test_a_change_after_the_preview_refuses_the_whole_sheet(world):
    rows = [["党组织名称", "上级党组织", "监督电话"],
            ["第一党支部", "C1", "0756-2129999"], ["第六党支部", "C1", ""]]
    token, _ = prepare(world.admin, rows)
    services.organisation_update(actor=world.admin, org=world.branch_a, version=world.branch_a.version,
                                 data={"short_name": "一支"})
    before = Organisation.objects.count()
    with pytest.raises(Conflict):
        org_import.org_import_apply(actor=world.admin, token=token)
    assert Organisation.objects.count() == before
    assert not Organisation.objects.filter(name="第六党支部").exists()


@pytest.mark.django_db
def test_hostile_files_are_refused_before_parsing(world):
    with pytest.raises(ValidationError) as exc:
        prepare(world.admin, [], builder=lambda rows: excel_xlsx([], sheet_xml=billion_laughs(3)))
    assert "不允许的 XML 声明" in exc.value.messages[0]
    with pytest.raises(ValidationError) as exc:
        org_import.org_import_prepare(actor=world.admin, upload=upload(b"a,b\n", name="组织.csv"))
    assert "只能导入 .xlsx" in exc.value.messages[0]


@pytest.mark.django_db
def test_a_member_roster_plan_cannot_be_confirmed_as_an_organisation_sheet(world):
    from orgs import roster_import
    data = openpyxl_xlsx([["姓名", "性别", "所在党支部"], ["赵敏", "女", "第一党支部"]])
    token = roster_import.store_plan(actor=world.staff_a, roster=roster_import.read_roster(data), data=data,
                                     filename="名册.xlsx")
    with pytest.raises(FileNotFoundError):
        roster_import.plan_for(actor=world.staff_a, token=token, kind="orgs")
    assert roster_import.plan_for(actor=world.staff_a, token=token)["counts"]["create"] == 1


# --- pages ----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_template_round_trip_through_the_pages(client, world):
    client.force_login(world.admin)
    page = client.get(reverse("orgs:tree"))
    assert reverse("orgs:org_import") in page.content.decode()
    response = client.get(reverse("orgs:org_import_template"))
    assert response.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)
                                           if response.streaming else response.content))
    ws = wb["组织架构"]
    assert [c.value for c in ws[2]][:3] == ["党组织名称*", "上级党组织*", "组织类型"]
    # The example lives on the notes sheet and names the administrator's top organisation.
    assert any(row[1] == world.root.name for row in wb["填写说明"].iter_rows(values_only=True))

    ws.append(["综合二党总支", "市某局机关党委", "党总支"])
    ws.append(["综合二党总支第一党支部", "综合二党总支", "党支部"])
    buf = io.BytesIO()
    wb.save(buf)
    response = client.post(reverse("orgs:org_import"), {"file": upload(buf.getvalue(), "模板.xlsx")})
    assert response.status_code == 302
    preview = client.get(response["Location"])
    text = preview.content.decode()
    assert "校验通过，尚未导入" in text and "新增2个" in text
    assert "表中第3行，新增" in text
    token = response["Location"].rstrip("/").split("/")[-1]
    done = client.post(reverse("orgs:org_import_confirm", args=[token]))
    assert done.status_code == 302
    general = org_named("综合二党总支")
    assert done["Location"] == reverse("orgs:detail", args=[general.pk])
    assert org_named("综合二党总支第一党支部").parent == general
    again = client.post(reverse("orgs:org_import_confirm", args=[token]), follow=True)
    assert "不能重复导入" in again.content.decode()
    assert Organisation.objects.filter(name="综合二党总支").count() == 1


@pytest.mark.django_db
def test_the_upload_page_shows_file_errors_in_place(client, world):
    client.force_login(world.admin)
    response = client.post(reverse("orgs:org_import"),
                           {"file": upload(openpyxl_xlsx([["姓名", "性别"], ["张三", "男"]]))})
    assert response.status_code == 200
    assert "没有找到表头" in response.content.decode() or "缺少" in response.content.decode()


@pytest.mark.django_db
def test_the_preview_lists_errors_and_offers_no_confirm(client, world):
    client.force_login(world.admin)
    data = openpyxl_xlsx([["党组织名称", "上级党组织"], ["新党支部", "无此党委"]])
    response = client.post(reverse("orgs:org_import"), {"file": upload(data)})
    text = client.get(response["Location"]).content.decode()
    assert "第2行「上级党组织」" in text
    assert "确认导入" not in text


@pytest.mark.django_db
def test_every_problem_of_a_row_is_listed_at_once(world):
    _, plan = prepare(world.admin, [["党组织名称", "上级党组织", "组织类型"], ["某某协会", "无此上级", "协会"]])
    assert len(plan["errors"]) == 2
    assert plan["errors"][0].startswith("第2行「组织类型」：无法识别组织类型“协会”")
    assert plan["errors"][1].startswith("第2行「上级党组织」：找不到上级党组织“无此上级”")
