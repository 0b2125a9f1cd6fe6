"""Predicates: roles reach the subtree of the organisation they are granted on, and no further."""
import pytest

from orgs.permissions import (can_add_member, can_edit_member, can_manage_accounts, can_manage_org, can_move_org,
                              can_transfer_member, can_view_member, can_view_members, can_view_org, scope_for)


def test_branch_secretary_reads_own_branch_not_sibling(world):
    assert can_view_org(world.secretary_a, world.branch_a)
    assert not can_view_org(world.secretary_a, world.branch_b)
    assert not can_view_org(world.secretary_a, world.committee)


def test_committee_secretary_reaches_whole_subtree_at_any_depth(world):
    for org in (world.committee, world.branch_a, world.branch_b, world.general, world.branch_c):
        assert can_view_org(world.committee_secretary, org)
    assert not can_view_org(world.committee_secretary, world.branch_d)
    assert not can_view_org(world.committee_secretary, world.root)


def test_member_role_sees_own_record_only(world):
    assert can_view_member(world.member_user_a, world.member_a)
    assert not can_view_member(world.member_user_a, world.member_a2)
    assert not can_view_org(world.member_user_a, world.branch_a)
    assert not can_view_members(world.member_user_a, world.branch_a)


def test_auditor_reads_no_business_data(world):
    assert not can_view_org(world.auditor, world.branch_a)
    assert not can_view_member(world.auditor, world.member_a)


def test_staff_edit_members_of_their_subtree(world):
    assert can_edit_member(world.staff_a, world.member_a)
    assert not can_edit_member(world.staff_a, world.member_b)
    assert can_edit_member(world.reviewer, world.member_d)
    assert not can_edit_member(world.admin, world.member_a)  # admins manage accounts, not records
    assert can_add_member(world.staff_a, world.branch_a)
    assert not can_add_member(world.committee_secretary, world.general)  # not a branch


def test_transfer_needs_reach_over_target_branch(world):
    assert can_transfer_member(world.committee_secretary, world.member_a, world.branch_c)
    assert not can_transfer_member(world.secretary_a, world.member_a, world.branch_b)
    assert not can_transfer_member(world.committee_secretary, world.member_a, world.branch_d)


def test_only_admin_manages_tree_and_accounts(world):
    assert can_manage_org(world.admin, world.branch_c)
    assert not can_manage_org(world.city_secretary, world.branch_c)
    assert can_manage_accounts(world.admin, world.branch_a)
    assert not can_manage_accounts(world.secretary_a)


def test_move_refuses_root_and_own_subtree(world):
    assert not can_move_org(world.admin, world.root)
    assert can_move_org(world.admin, world.branch_c, world.committee2)
    assert not can_move_org(world.admin, world.committee, world.general)


def test_scope_is_one_query_per_request(world, django_assert_num_queries):
    user = type(world.secretary_a).objects.get(pk=world.secretary_a.pk)
    with django_assert_num_queries(1):
        for org in (world.branch_a, world.branch_b, world.branch_c, world.root):
            can_view_org(user, org)
        scope_for(user)


def test_inactive_user_has_no_scope(world):
    world.secretary_a.is_active = False
    assert not can_view_org(world.secretary_a, world.branch_a)


@pytest.mark.parametrize("attr", ["outsider"])
def test_user_without_grants_reaches_nothing(world, attr):
    user = getattr(world, attr)
    assert not can_view_org(user, world.root)
    assert not can_view_member(user, world.member_a)
