"""三员分立 (等保 least privilege): the system administrator manages organisations and accounts but
reads no member's personal data, commitments, ledgers or lists, unless also granted an officer role."""
import pytest
from django.urls import reverse

from orgs import selectors
from orgs.models import Role, RoleGrant
from orgs.permissions import can_browse_org, can_view_member, can_view_members, can_view_org, forget_scope
from tests.conftest import make_commitment


@pytest.fixture
def pending(world):
    return make_commitment(world.campaign, member=world.member_a, status="submitted")


def _personal_pages(world, pending):
    return [
        reverse("orgs:member_list"),
        reverse("orgs:member_detail", args=[world.member_a.pk]),
        reverse("orgs:member_import_template"),
        reverse("commitments:list"),
        reverse("commitments:detail", args=[pending.pk]),
        reverse("portal:ledger_xlsx") + f"?org={world.branch_a.pk}",
        reverse("portal:coverage_xlsx") + f"?org={world.branch_a.pk}",
        reverse("portal:coverage") + f"?org={world.branch_a.pk}",
        reverse("evaluations:results_xlsx"),
        reverse("evaluations:awards_xlsx", args=[world.committee.pk]),
    ]


def test_system_administrator_gets_404_on_every_page_with_member_data(world, as_user, pending):
    client = as_user(world.admin)
    for url in _personal_pages(world, pending):
        assert client.get(url).status_code == 404, url


def test_system_administrator_reads_no_member_by_predicate(world):
    assert not can_view_members(world.admin, world.branch_a)
    assert not can_view_member(world.admin, world.member_a)
    assert not can_view_org(world.admin, world.branch_a)
    assert can_browse_org(world.admin, world.branch_a)


def test_system_administrator_still_browses_the_tree_without_members(world, as_user):
    client = as_user(world.admin)
    assert client.get(reverse("orgs:tree")).status_code == 200
    page = client.get(reverse("orgs:detail", args=[world.branch_a.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert world.branch_a.name in html
    # The role holders (accounts) are listed; the branch's member register is not.
    assert 'id="members-h"' not in html and reverse("orgs:member_list") not in html
    nav = [url for url, _label in page.context["nav"]]
    assert "orgs:tree" in nav and "orgs:member_list" not in nav and "commitments:list" not in nav


def test_account_picker_offers_names_and_branches_only(world, as_user):
    members = list(selectors.member_choices_without_account_for(world.admin))
    assert world.member_b in members and world.member_a not in members  # member_a has an account
    for member in members:
        assert {"phone", "birth_month", "joined_party_on", "post"} <= member.get_deferred_fields()
    page = as_user(world.admin).get(reverse("orgs:user_create"))
    assert page.status_code == 200
    assert f"{world.member_b.name}（{world.branch_b.name}）" in page.content.decode()


def test_administrator_also_granted_an_officer_role_reads_that_subtree(world, as_user, pending):
    RoleGrant.objects.create(user=world.admin, organisation=world.branch_a, role=Role.SECRETARY)
    forget_scope(world.admin)
    client = as_user(world.admin)
    assert client.get(reverse("orgs:member_detail", args=[world.member_a.pk])).status_code == 200
    assert client.get(reverse("orgs:member_detail", args=[world.member_b.pk])).status_code == 404
    assert client.get(reverse("commitments:detail", args=[pending.pk])).status_code == 200


def test_account_page_names_the_member_without_a_link_the_administrator_cannot_follow(world, as_user):
    html = as_user(world.admin).get(reverse("orgs:user_detail", args=[world.member_user_a.pk])).content.decode()
    assert "关联党员：李娜" in html
    assert reverse("orgs:member_detail", args=[world.member_a.pk]) not in html
