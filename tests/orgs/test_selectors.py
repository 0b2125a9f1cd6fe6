"""Selectors: scoped reads, subtree counts in constant queries, 404 for missing and forbidden."""
import pytest
from django.contrib.auth import get_user_model
from django.http import Http404

from orgs import selectors
from orgs.models import Member, MemberStatus, OrgKind
from orgs.permissions import can_edit_member
from tests.conftest import make_member, make_org

User = get_user_model()


def test_organisation_list_is_scoped_and_in_tree_order(world):
    names = list(selectors.organisation_list_for(world.committee_secretary).values_list("name", flat=True))
    assert names == ["市某局机关党委", "第一党支部", "第二党支部", "综合党总支", "第三党支部"]
    assert list(selectors.organisation_list_for(world.secretary_a)) == [world.branch_a]
    assert not selectors.organisation_list_for(world.member_user_a).exists()
    assert not selectors.organisation_list_for(world.auditor).exists()


def test_organisation_get_for_is_404_for_missing_and_forbidden(world):
    assert selectors.organisation_get_for(world.secretary_a, world.branch_a.pk) == world.branch_a
    for pk in (world.branch_b.pk, 999999, "abc"):
        with pytest.raises(Http404):
            selectors.organisation_get_for(world.secretary_a, pk)


def test_subtree_is_one_query_at_any_depth(world, django_assert_num_queries):
    parent = world.general
    for level in range(8):
        parent = make_org(parent, f"第{level}层", OrgKind.GENERAL_BRANCH if level < 7 else OrgKind.BRANCH)
    deep = make_member(parent, "深层党员")
    with django_assert_num_queries(1):
        found = list(Member.objects.filter(branch__path__startswith=world.committee.path))
    assert deep in found and world.member_a in found and world.member_d not in found


def test_member_counts_roll_up_to_every_ancestor(world):
    Member.objects.filter(pk=world.member_b.pk).update(status=MemberStatus.TRANSFERRED_OUT)
    counts = selectors.member_counts_by_org([world.root.path])
    assert counts[world.branch_a.pk] == 2
    assert counts[world.branch_b.pk] == 0  # transferred out members are not on the roll
    assert counts[world.general.pk] == 1
    assert counts[world.committee.pk] == 3
    assert counts[world.root.pk] == 4


def test_tree_nests_children_with_counts_and_marks_hidden_levels(world):
    tree = selectors.organisation_tree_for(world.reviewer, levels=2)
    assert [n.org for n in tree] == [world.root]
    committee = next(n for n in tree[0].children if n.org == world.committee)
    assert [c.org.name for c in committee.children] == ["第一党支部", "第二党支部", "综合党总支"]
    general = committee.children[2]
    assert general.children == [] and general.has_hidden_children  # depth 3 is beyond 2 levels
    assert committee.member_count == 4


def test_tree_of_a_branch_secretary_is_their_branch_only(world):
    tree = selectors.organisation_tree_for(world.secretary_a)
    assert [n.org for n in tree] == [world.branch_a] and tree[0].member_count == 2


def test_tree_of_user_with_two_separate_grants_has_two_roots(world):
    from orgs.models import Role, RoleGrant
    RoleGrant.objects.create(user=world.secretary_a, organisation=world.branch_d, role=Role.STAFF)
    world.secretary_a = type(world.secretary_a).objects.get(pk=world.secretary_a.pk)
    assert [n.org for n in selectors.organisation_tree_for(world.secretary_a)] == [world.branch_a, world.branch_d]


def test_member_list_filters(world):
    user = world.reviewer
    assert set(selectors.member_list_for(user, q="喆")) == {world.member_c}
    assert set(selectors.member_list_for(user, category="retired")) == {world.member_a2}
    assert set(selectors.member_list_for(user, gender="F")) == {world.member_a}
    assert set(selectors.member_list_for(user, has_account="yes")) == {world.member_a}
    assert set(selectors.member_list_for(user, org=world.general)) == {world.member_c}
    Member.objects.filter(pk=world.member_d.pk).update(joined_party_on=None)
    assert set(selectors.member_list_for(user, incomplete=True)) == {world.member_d}
    Member.objects.filter(pk=world.member_b.pk).update(status=MemberStatus.DECEASED)
    assert world.member_b not in selectors.member_list_for(user)
    assert world.member_b in selectors.member_list_for(user, status="")


def test_same_name_members_stay_distinct(world):
    twin = make_member(world.branch_b, "张伟", birth_month=world.member_b.birth_month.replace(year=1980))
    found = list(selectors.member_list_for(world.reviewer, q="张伟"))
    assert len(found) == 2 and {m.pk for m in found} == {world.member_b.pk, twin.pk}


def test_member_get_for_uses_the_given_predicate(world):
    assert selectors.member_get_for(world.member_user_a, world.member_a.pk) == world.member_a
    with pytest.raises(Http404):
        selectors.member_get_for(world.member_user_a, world.member_a.pk, predicate=can_edit_member)
    with pytest.raises(Http404):
        selectors.member_get_for(world.secretary_a, world.member_b.pk)


def test_ancestors_read_off_the_path(world, django_assert_num_queries):
    with django_assert_num_queries(1):
        chain = selectors.ancestors_of(world.branch_c)
    assert chain == [world.root, world.committee, world.general]


def test_user_list_is_limited_to_admin_subtree(world):
    from orgs.models import Role, RoleGrant
    usernames = set(selectors.user_list_for(world.admin).values_list("username", flat=True))
    assert {"staff_a", "secretary_b", "member_a"} <= usernames
    # Tied to no organisation: the root's system administrator still finds it (to give it a role).
    assert "outsider" in usernames
    assert not selectors.user_list_for(world.secretary_a).exists()
    # An administrator of the first committee only sees accounts tied to it.
    stray = User.objects.create_user(username="stray", password="x")
    RoleGrant.objects.create(user=world.outsider, organisation=world.committee, role=Role.ADMIN)
    scoped = set(selectors.user_list_for(world.outsider).values_list("username", flat=True))
    assert "secretary_a" in scoped and "reviewer" not in scoped and stray.username not in scoped


def test_todo_lists_incomplete_members_and_missing_phones(world):
    Member.objects.filter(pk=world.member_a.pk).update(post="")
    labels = {t.label: t.count for t in selectors.todo_for(world.secretary_a)}
    assert labels == {"党员信息待补全": 1}  # branch A has a supervision phone
    labels = {t.label: t.count for t in selectors.todo_for(world.committee_secretary)}
    assert labels["党组织未设监督电话"] == 4  # committee, branch B, general, branch C
    assert selectors.todo_for(world.member_user_a) == []
