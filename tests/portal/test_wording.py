"""Words that read right for the organisation at hand: a branch has no 下级 to speak of, and the
blank forms are named as the guidance names them."""
from django.urls import reverse


def test_a_branch_is_not_called_and_its_subordinate_branches(world, client):
    client.force_login(world.secretary_a)
    for name in ("portal:coverage_members", "portal:coverage_orgs", "portal:coverage_commitments"):
        html = client.get(reverse(name), {"org": world.branch_a.pk}).content.decode()
        assert world.branch_a.name in html and "及下级" not in html, name
    client.force_login(world.committee_secretary)
    html = client.get(reverse("portal:coverage_members"), {"org": world.committee.pk}).content.decode()
    assert f"{world.committee.name}及下级党支部" in html


def test_blank_form_buttons_name_the_forms(world, client):
    client.force_login(world.secretary_a)
    html = client.get(reverse("commitments:list")).content.decode()
    assert "空白《基层党组织公开承诺书》" in html and "空白《党员公开承诺书》" in html
    assert "空白附件" not in html
