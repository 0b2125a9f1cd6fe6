"""审计日志: the audit administrator's search page, one row's page and the .xlsx export."""
import datetime
import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from orgs import audit, services
from orgs.models import AuditEvent, Member, Role
from tests.conftest import make_member, make_user

LIST = reverse("orgs:audit_list")
EXPORT = reverse("orgs:audit_export")


def rows_on(response) -> list[AuditEvent]:
    return list(response.context["page"])


def edit_member(actor, member, **changes):
    member = Member.objects.get(pk=member.pk)
    return services.member_update(actor=actor, member=member, version=member.version, data=changes)


@pytest.fixture
def auditor(world, as_user):
    return as_user(world.auditor)


def test_the_auditor_reads_the_trail_newest_first_with_chinese_dates(world, auditor):
    edit_member(world.secretary_a, world.member_a, post="科长")
    response = auditor.get(LIST)
    assert response.status_code == 200
    rows = rows_on(response)
    assert [e.pk for e in rows] == list(AuditEvent.objects.order_by("-id").values_list("pk", flat=True)[:50])
    assert rows[0].action == "member.update"
    text = response.content.decode()
    today = timezone.localdate()
    assert f"{today.year}年{today.month}月{today.day}日" in text and "修改党员信息" in text
    assert ("orgs:audit_list", "审计日志") in response.context["nav"]


def test_only_auditors_see_the_viewer_and_its_nav_entry(world, as_user):
    security = getattr(world, "security", None) or make_user("security", world.root, Role.SECURITY)
    for user in (world.admin, world.city_secretary, world.secretary_a, world.member_user_a, security):
        client = as_user(user)
        assert client.get(LIST).status_code == 404
        assert client.get(EXPORT).status_code == 404
        assert client.get(reverse("orgs:audit_detail", args=[AuditEvent.objects.first().pk])).status_code == 404
        assert "审计日志" not in [label for _, label in client.get(reverse("home")).context["nav"]]


def test_the_viewer_is_read_only(world, auditor):
    before = AuditEvent.objects.count()
    for url in (LIST, reverse("orgs:audit_detail", args=[AuditEvent.objects.first().pk]), EXPORT):
        assert auditor.post(url, {}).status_code == 405
    assert AuditEvent.objects.count() == before


def test_an_auditor_on_a_subtree_reads_only_that_subtree(world, as_user):
    sub = make_user("sub_auditor", world.committee, Role.AUDITOR, name="机关党委审计员")
    audit.record(actor=None, action="auth.login_failed", result="failure", detail={"username": "nobody"})
    edit_member(world.secretary_a, world.member_a, post="科长")
    client = as_user(sub)
    rows = rows_on(client.get(LIST))
    subtree = {world.committee.pk, world.branch_a.pk, world.branch_b.pk, world.general.pk, world.branch_c.pk}
    assert rows and {e.organisation_id for e in rows} <= subtree
    assert "member.update" in {e.action for e in rows}
    outside = AuditEvent.objects.get(action="org.create", organisation=world.branch_d)
    no_org = AuditEvent.objects.get(action="auth.login_failed")
    for event in (outside, no_org):
        assert client.get(reverse("orgs:audit_detail", args=[event.pk])).status_code == 404
    # An organisation outside the grant cannot even be asked for.
    assert client.get(LIST, {"org": world.branch_d.pk}).status_code == 404
    # The root auditor reads rows with no organisation (logins) too.
    root_rows = rows_on(as_user(world.auditor).get(LIST, {"action": "auth.login_failed"}))
    assert [e.pk for e in root_rows] == [no_org.pk]


def test_filters(world, auditor, monkeypatch):
    edit_member(world.secretary_a, world.member_a, post="科长")
    edit_member(world.committee_secretary, world.member_c, post="主任")
    audit.record(actor=None, action="auth.login_failed", result="failure", detail={"username": "secretary_b"})
    token = audit.client_ip_var.set("203.0.113.7")
    audit.record(actor=world.admin, action="org.update", obj=world.branch_d, detail={"changes": {}})
    audit.client_ip_var.reset(token)
    long_ago = timezone.make_aware(datetime.datetime(2010, 10, 31, 9, 30))
    monkeypatch.setattr(audit.timezone, "now", lambda: long_ago)
    old = audit.record(actor=world.admin, action="org.update", obj=world.branch_b)
    monkeypatch.undo()

    def pks(**params):
        response = auditor.get(LIST, params)
        assert response.status_code == 200, params
        return {e.pk for e in rows_on(response)}

    def where(**lookup):
        return set(AuditEvent.objects.filter(**lookup).values_list("pk", flat=True))

    assert pks(date_from="2010-10-31", date_to="2010-10-31") == {old.pk}
    assert old.pk not in pks(date_from=timezone.localdate().isoformat())
    assert pks(user="一支部书记") == pks(user="secretary_a") == where(actor=world.secretary_a)
    assert where(action="auth.login_failed") <= pks(user="secretary_b")  # the username tried
    assert pks(action="member.update") == where(action="member.update")
    login_group = next(value for value, _ in auditor.get(LIST).context["form"].fields["action"].choices[1][1])
    areas = set(AuditEvent.objects.filter(action__regex=r"^(auth|user|role)\.").values_list("pk", flat=True))
    assert login_group == "group:0" and pks(action=login_group) == areas
    assert where(action="auth.login_failed") < areas
    assert pks(org=world.general.pk) == where(organisation__in=[world.general, world.branch_c])
    assert pks(result="failure") == where(result="failure")
    member_c = AuditEvent.objects.get(action="member.update", object_id=str(world.member_c.pk))
    assert pks(object_type="orgs.member", object_id=str(world.member_c.pk)) == {member_c.pk}
    assert pks(q="陈喆") == where(object_repr="陈喆")
    assert pks(q="203.0.113.7") == where(client_ip="203.0.113.7")
    response = auditor.get(LIST, {"date_from": "2010-11-01", "date_to": "2010-10-01"})
    assert rows_on(response) == [] and "截止日期不能早于起始日期" in response.content.decode()


def test_pages_of_fifty_and_a_query_count_that_does_not_grow(world, auditor, django_assert_max_num_queries):
    def count_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert auditor.get(LIST, {"q": "测试"}).status_code == 200
        return len(ctx.captured_queries)

    member = make_member(world.branch_a, "测试党员")
    for n in range(3):
        audit.record(actor=world.secretary_a, action="member.update", obj=member, detail={"n": n})
    small = count_queries()
    for n in range(120):
        audit.record(actor=world.secretary_a, action="member.update", obj=member, detail={"n": n})
    with django_assert_max_num_queries(small):
        response = auditor.get(LIST, {"q": "测试"})
    assert small <= 12
    page = response.context["page"]
    assert page.paginator.count == 123 and len(page.object_list) == 50
    assert "第 1/3 页，共 123 条" in response.content.decode()
    assert len(rows_on(auditor.get(LIST, {"q": "测试", "page": 3}))) == 23


def test_one_row_shows_its_roles_and_hashes(world, auditor):
    edit_member(world.secretary_a, world.member_a, post="科长")
    event = AuditEvent.objects.get(action="member.update")
    response = auditor.get(reverse("orgs:audit_detail", args=[event.pk]))
    text = response.content.decode()
    assert response.status_code == 200
    assert event.row_hash in text and event.prev_hash in text and "本条记录与校验值一致" in text
    assert "书记（第一党支部）" in text and "修改党员信息" in text and "科长" in text


def test_export_streams_the_filtered_rows_safely_and_is_audited(world, auditor):
    evil = make_member(world.branch_a, '=HYPERLINK("http://x")')
    audit.record(actor=world.secretary_a, action="member.update", obj=evil, detail={"note": "+1"})
    response = auditor.get(EXPORT, {"action": "member.update"})
    assert response.status_code == 200 and "filename*=UTF-8''" in response["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(min_row=3, values_only=False))
    header = [c.value for c in rows[0]]
    assert header[:3] == ["编号", "时间", "操作人"]
    data = rows[1:]
    assert len(data) == AuditEvent.objects.filter(action="member.update").count() == 1
    cell = data[0][header.index("对象")]
    assert cell.value == '=HYPERLINK("http://x")' and cell.data_type == "s"
    assert data[0][header.index("操作")].value == "修改党员信息"
    assert data[0][header.index("校验值")].value == AuditEvent.objects.get(action="member.update").row_hash
    export = AuditEvent.objects.get(action="audit.export")
    assert export.actor == world.auditor and export.organisation == world.root
    assert export.detail == {"filters": {"action": "member.update"}, "rows": 1}
    assert export.role == f"auditor@{world.root.pk}"
    assert audit.verify_chain().ok
