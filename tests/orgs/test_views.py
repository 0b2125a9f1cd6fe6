"""Views: success paths, stale forms, Chinese messages, and query counts pinned at 10× data."""
import datetime

import pytest
from django.urls import reverse

from orgs.models import AuditEvent, Member, Organisation, OrgKind
from tests.conftest import make_member, make_org


def test_home_lists_roles_todos_and_campaign(world, as_user):
    Member.objects.filter(pk=world.member_a2.pk).update(post="")
    html = as_user(world.secretary_a).get(reverse("home")).content.decode()
    assert "第一党支部" in html and "书记" in html
    assert "党员信息待补全" in html
    assert "2010年10月31日" in html and "已截止" in html


def test_member_home_shows_own_record(world, as_user):
    html = as_user(world.member_user_a).get(reverse("home")).content.decode()
    assert "我的党员信息" in html and "第一党支部" in html
    assert "组织架构" not in html  # no tree navigation for a plain member


def test_tree_shows_subtree_counts(world, as_user):
    client = as_user(world.committee_secretary)
    html = client.get(reverse("orgs:tree")).content.decode()
    assert "市某局机关党委" in html and "综合党总支" in html
    assert "4 名党员" in html  # committee: a, a2, b, c
    assert "第四党支部" not in html
    # Deeper levels load on demand (tests/orgs/test_tree_lazy.py); ?open= draws them without JavaScript.
    html = client.get(reverse("orgs:tree"), {"open": world.general.pk}).content.decode()
    assert "第三党支部" in html and "第四党支部" not in html


def test_tree_search_and_missing_phone_filter(world, as_user):
    client = as_user(world.reviewer)
    html = client.get(reverse("orgs:tree"), {"q": "第三"}).content.decode()
    assert "第三党支部" in html and "第一党支部" not in html
    html = client.get(reverse("orgs:tree"), {"missing_phone": "on"}).content.decode()
    assert "第二党支部" in html and "第一党支部" not in html


def test_member_list_search_and_filters(world, as_user):
    client = as_user(world.committee_secretary)
    html = client.get(reverse("orgs:member_list"), {"q": "陈喆"}).content.decode()
    assert "陈喆" in html and "李娜" not in html
    html = client.get(reverse("orgs:member_list"), {"category": "retired"}).content.decode()
    assert "王堃" in html and "李娜" not in html
    html = client.get(reverse("orgs:member_list"), {"org": world.branch_b.pk}).content.decode()
    assert "张伟" in html and "李娜" not in html


def test_member_list_org_filter_outside_scope_is_404(world, as_user):
    response = as_user(world.secretary_a).get(reverse("orgs:member_list"), {"org": world.branch_b.pk})
    assert response.status_code == 404


def test_member_edit_saves_and_redirects(world, as_user):
    m = world.member_a
    client = as_user(world.staff_a)
    response = client.post(reverse("orgs:member_edit", args=[m.pk]), {
        "name": "李娜", "gender": "F", "birth_month": "1975-03", "post": "副主任科员",
        "joined_party_on": "1998-07-01", "phone": "", "category": "general", "status": "active",
        "note": "", "version": m.version})
    assert response.status_code == 302
    m.refresh_from_db()
    assert m.post == "副主任科员"
    page = client.get(response["Location"]).content.decode()
    assert "副主任科员" in page and "1975年3月" in page and "1998年7月1日" in page


def test_member_edit_stale_form_keeps_input_and_says_someone_acted(world, as_user):
    m = world.member_a
    Member.objects.filter(pk=m.pk).update(version=5, post="科长")
    response = as_user(world.staff_a).post(reverse("orgs:member_edit", args=[m.pk]), {
        "name": "李娜", "gender": "F", "birth_month": "1975-03", "post": "我刚填的职务",
        "joined_party_on": "1998-07-01", "category": "general", "status": "active", "version": 1})
    assert response.status_code == 200
    html = response.content.decode()
    assert "已被他人修改" in html
    assert "我刚填的职务" in html
    assert Member.objects.get(pk=m.pk).post == "科长"


def test_member_edit_shows_field_errors_in_chinese(world, as_user):
    m = world.member_a
    response = as_user(world.staff_a).post(reverse("orgs:member_edit", args=[m.pk]), {
        "name": "李娜", "gender": "F", "birth_month": "1990-03", "post": "科员",
        "joined_party_on": "2000-07-01", "phone": "1380000", "category": "general", "status": "active",
        "version": m.version})
    html = response.content.decode()
    assert response.status_code == 200
    assert "年满十八岁" in html and "电话号码格式不正确" in html


def test_member_create_in_branch(world, as_user):
    response = as_user(world.staff_a).post(reverse("orgs:member_create"), {
        "branch": world.branch_a.pk, "name": "赵赟", "gender": "M", "birth_month": "1980年5月",
        "post": "科员", "joined_party_on": "2005.07.01", "phone": "13800001111", "category": "general",
        "status": "active"})
    assert response.status_code == 302
    m = Member.objects.get(name="赵赟")
    assert m.branch == world.branch_a and m.birth_month == datetime.date(1980, 5, 1)


def test_member_create_in_sibling_branch_is_rejected_as_invalid_choice(world, as_user):
    response = as_user(world.staff_a).post(reverse("orgs:member_create"), {
        "branch": world.branch_b.pk, "name": "赵赟", "gender": "M", "category": "general", "status": "active"})
    assert response.status_code == 200
    assert not Member.objects.filter(name="赵赟").exists()


def test_member_transfer_view(world, as_user):
    m = world.member_a
    response = as_user(world.committee_secretary).post(reverse("orgs:member_transfer", args=[m.pk]), {
        "to_branch": world.branch_c.pk, "transferred_on": "2010-06-01", "reason": "工作调动", "version": m.version})
    assert response.status_code == 302
    html = as_user(world.committee_secretary).get(response["Location"]).content.decode()
    assert "由 第一党支部 转入 第三党支部" in html and "2010年6月1日" in html


def test_org_create_child_and_edit(world, as_user):
    client = as_user(world.admin)
    response = client.post(reverse("orgs:create_child", args=[world.general.pk]), {
        "name": "第五党支部", "short_name": "", "kind": OrgKind.BRANCH, "code": "", "supervision_phone": "",
        "sort_order": 5})
    assert response.status_code == 302
    org = Organisation.objects.get(name="第五党支部")
    response = client.post(reverse("orgs:edit", args=[org.pk]), {
        "name": "第五党支部（新）", "short_name": "", "kind": OrgKind.BRANCH, "code": org.code,
        "supervision_phone": "0756-2125555", "sort_order": 5, "is_active": "on", "version": org.version})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.name == "第五党支部（新）" and org.supervision_phone == "0756-2125555"


def test_org_edit_duplicate_code_is_a_field_error(world, as_user):
    org = world.branch_b
    response = as_user(world.admin).post(reverse("orgs:edit", args=[org.pk]), {
        "name": org.name, "kind": org.kind, "code": "C1-A", "sort_order": 0, "is_active": "on",
        "version": org.version})
    assert response.status_code == 200
    assert "组织编码" in response.content.decode()


def test_org_move_view(world, as_user):
    response = as_user(world.admin).post(reverse("orgs:move", args=[world.general.pk]), {
        "new_parent": world.committee2.pk, "version": world.general.version})
    assert response.status_code == 302
    world.branch_c.refresh_from_db()
    assert world.branch_c.path.startswith(world.committee2.path)


def test_user_create_and_grant_views(world, as_user):
    client = as_user(world.admin)
    response = client.post(reverse("orgs:user_create"), {
        "username": "wangkun", "full_name": "王堃", "password": "Zh-2010-abc",
        "organisation": world.branch_a.pk, "role": "member", "member": world.member_a2.pk})
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "王堃" in html and "第一党支部" in html


def test_user_create_weak_password_message(world, as_user):
    response = as_user(world.admin).post(reverse("orgs:user_create"), {
        "username": "weak", "full_name": "弱", "password": "12345678", "organisation": world.branch_a.pk,
        "role": "staff"})
    assert response.status_code == 200
    assert "密码" in response.content.decode()


def test_own_password_change(world, as_user):
    client = as_user(world.staff_a)
    response = client.post(reverse("password_change"), {
        "old_password": "Test-pass-2010", "password1": "Another-2010x", "password2": "Another-2010x"})
    assert response.status_code == 302
    world.staff_a.refresh_from_db()
    assert world.staff_a.check_password("Another-2010x")


def test_login_page_in_chinese_and_failed_login_audited(client, world):
    response = client.post(reverse("login"), {"username": "staff_a", "password": "wrong"})
    assert "用户名或密码不正确" in response.content.decode()
    assert AuditEvent.objects.filter(action="auth.login_failed", detail__username="staff_a").exists()
    response = client.post(reverse("login"), {"username": "staff_a", "password": "Test-pass-2010"})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="auth.login", actor=world.staff_a).exists()


def test_unknown_url_is_plain_chinese_404(client, world):
    client.force_login(world.staff_a)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


# --- query counts at 10× data ---------------------------------------------------------------

def _grow(world, factor):
    """Add `factor` committees each with branches and members under the root."""
    for i in range(factor):
        c = make_org(world.root, f"扩展党委{i}", OrgKind.COMMITTEE)
        g = make_org(c, f"扩展总支{i}", OrgKind.GENERAL_BRANCH)
        for j in range(3):
            b = make_org(g if j else c, f"扩展支部{i}-{j}")
            Member.objects.bulk_create([
                Member(branch=b, name=f"成员{i}{j}{k}", gender="M", birth_month=datetime.date(1970, 1, 1))
                for k in range(5)])


def _queries(client, url, django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url_name,args", [("orgs:tree", {}), ("orgs:member_list", {}), ("home", {}),
                                            ("orgs:user_list", None)])
def test_list_pages_query_count_does_not_grow(world, client, django_assert_max_num_queries, url_name, args):
    user = world.admin if args is None else world.reviewer
    client.force_login(user)
    url = reverse(url_name)
    _grow(world, 1)
    small = _queries(client, url, django_assert_max_num_queries, 15)
    _grow(world, 10)
    big = _queries(client, url, django_assert_max_num_queries, 15)
    assert big == small, f"{url_name}: {small} queries at 1×, {big} at 10×"


def test_org_detail_query_count_does_not_grow(world, client, django_assert_max_num_queries):
    client.force_login(world.reviewer)
    url = reverse("orgs:detail", args=[world.root.pk])
    _grow(world, 1)
    small = _queries(client, url, django_assert_max_num_queries, 15)
    _grow(world, 10)
    big = _queries(client, url, django_assert_max_num_queries, 15)
    assert big == small
    for b in Organisation.objects.filter(kind=OrgKind.BRANCH)[:3]:
        make_member(b, "加人")
    url = reverse("orgs:detail", args=[world.branch_a.pk])
    for _ in range(30):
        make_member(world.branch_a, "批量")
    assert _queries(client, url, django_assert_max_num_queries, 15) <= 15


def test_member_list_sorts_by_birth_month_and_filters_by_org_select(world, as_user):
    client = as_user(world.committee_secretary)
    html = client.get(reverse("orgs:member_list"), {"sort": "birth", "status": ""}).content.decode()
    assert html.index("王堃") < html.index("李娜")  # born 1945 before 1975
    html = client.get(reverse("orgs:member_list"), {"sort": "-birth"}).content.decode()
    assert html.index("李娜") < html.index("王堃")
    assert 'aria-sort="descending"' in html
    # The organisation filter lists only the user's subtree.
    assert "第三党支部" in html and "第四党支部" not in html


def test_member_list_unknown_sort_is_ignored(world, as_user):
    response = as_user(world.committee_secretary).get(reverse("orgs:member_list"), {"sort": "password"})
    assert response.status_code == 200


def test_member_list_shows_members_on_the_roll_unless_asked(world, as_user):
    Member.objects.filter(pk=world.member_b.pk).update(status="transferred_out")
    client = as_user(world.committee_secretary)
    assert "张伟" not in client.get(reverse("orgs:member_list"), {"sort": "name"}).content.decode()
    assert "张伟" in client.get(reverse("orgs:member_list"), {"status": ""}).content.decode()
    assert "张伟" in client.get(reverse("orgs:member_list"), {"status": "transferred_out"}).content.decode()


def test_long_lists_count_up_to_the_cap(world, as_user, settings):
    """Past LIST_COUNT_CAP rows a list stops counting: "共 N+ 条" and pages up to the cap."""
    settings.LIST_COUNT_CAP = 3
    for i in range(4):
        make_member(world.branch_b, f"党员{i}")
    client = as_user(world.reviewer)  # an officer at the root (the admin reads no members)
    response = client.get(reverse("orgs:member_list"))
    page = response.context["page"]
    assert page.paginator.capped and page.paginator.count == 3
    assert "3+ 条" in response.content.decode() and "请用筛选条件缩小范围" in response.content.decode()
    # A narrower filter is counted exactly.
    narrow = client.get(reverse("orgs:member_list"), {"org": world.branch_a.pk}).context["page"].paginator
    assert not narrow.capped and narrow.count == 2
    settings.LIST_COUNT_CAP = 0
    assert client.get(reverse("orgs:member_list")).context["page"].paginator.count == 9
