"""Commitment.owner_path and Commitment.latest_result (denormalised for the lists and dashboards,
docs/PERFORMANCE.md) stay equal to what they summarise through every write that changes it."""
import datetime

import pytest
from django.db.models import Q
from django.utils import timezone

from commitments.models import Commitment, owner_path_of
from commitments.selectors import commitment_list_for
from evaluations.models import Assessment, Fulfilment, Grade
from evaluations.services import commitment_result_refresh
from orgs import services
from portal.coverage import commitments_under
from portal.scale import seed_scale
from tests.conftest import make_commitment

pytestmark = pytest.mark.django_db


def _consistent():
    """Every commitment's columns against the rows they come from."""
    for c in Commitment.objects.select_related("organisation", "member__branch"):
        assert c.owner_path == owner_path_of(c), c
        latest = Assessment.objects.filter(commitment=c).order_by("-assessed_at", "-id").first()
        assert c.latest_result == (latest.result if latest else None), c


def test_owner_path_is_set_on_creation(world):
    org_c = make_commitment(world.campaign, organisation=world.branch_a)
    pledge = make_commitment(world.campaign, member=world.member_c)
    assert org_c.owner_path == world.branch_a.path
    assert Commitment.objects.get(pk=pledge.pk).owner_path == world.branch_c.path


def test_a_transferred_members_pledge_follows_them(world):
    pledge = make_commitment(world.campaign, member=world.member_a)
    services.member_transfer(actor=world.committee_secretary, member=world.member_a, to_branch=world.branch_c,
                             version=world.member_a.version, transferred_on=datetime.date(2010, 6, 1), reason="调动")
    pledge.refresh_from_db()
    assert pledge.owner_path == world.branch_c.path
    # The lists of the new branch's subtree find it, the old branch's do not.
    assert commitment_list_for(world.city_secretary, campaign=world.campaign, org=world.general).filter(
        pk=pledge.pk).exists()
    assert not commitment_list_for(world.city_secretary, campaign=world.campaign, org=world.branch_a).filter(
        pk=pledge.pk).exists()
    _consistent()


def test_moving_an_organisation_rewrites_its_subtrees_commitments(world):
    general_c = make_commitment(world.campaign, organisation=world.general)
    branch_c = make_commitment(world.campaign, organisation=world.branch_c)
    pledge = make_commitment(world.campaign, member=world.member_c)
    other = make_commitment(world.campaign, member=world.member_a)
    services.organisation_move(actor=world.admin, org=world.general, new_parent=world.committee2,
                               version=world.general.version)
    world.general.refresh_from_db()
    for c in (general_c, branch_c, pledge, other):
        c.refresh_from_db()
    assert general_c.owner_path == world.general.path
    assert branch_c.owner_path.startswith(world.general.path) and pledge.owner_path == branch_c.owner_path
    assert other.owner_path == world.branch_a.path  # outside the moved subtree: untouched
    under_c2 = set(commitments_under(world.committee2, world.campaign).values_list("pk", flat=True))
    assert {general_c.pk, branch_c.pk, pledge.pk} <= under_c2 and other.pk not in under_c2
    _consistent()


def test_latest_result_follows_the_latest_assessment(world):
    c = make_commitment(world.campaign, member=world.member_a, status="published")
    assert Commitment.objects.get(pk=c.pk).latest_result is None

    def assess(result, grade):
        Assessment.objects.create(commitment=c, result=result, grade=grade, reason="考核",
                                  assessor_org=world.branch_a, assessed_by=world.secretary_a)
        commitment_result_refresh(commitment=c)

    assess(Fulfilment.UNFULFILLED, Grade.POOR)
    assert Commitment.objects.get(pk=c.pk).latest_result == Fulfilment.UNFULFILLED
    assess(Fulfilment.FULFILLED, Grade.GOOD)  # after rectification
    assert Commitment.objects.get(pk=c.pk).latest_result == Fulfilment.FULFILLED
    _consistent()


def test_the_scale_dataset_is_consistent():
    seed_scale(members=300, year=2034, out=lambda *_: None)
    assert Commitment.objects.filter(~Q(latest_result=None)).exists()
    _consistent()


def test_the_migration_fills_existing_rows(world):
    """The data migrations' fill() recompute both columns from the rows (here: after blanking them):
    owner_path in commitments 0007, latest_result in evaluations 0005."""
    from importlib import import_module

    from django.apps import apps

    org_c = make_commitment(world.campaign, organisation=world.branch_b)
    pledge = make_commitment(world.campaign, member=world.member_d, status="published")
    Assessment.objects.create(commitment=pledge, result=Fulfilment.PARTLY, grade=Grade.FAIR, reason="考核",
                              assessor_org=world.branch_d, assessed_by=world.admin,)
    Commitment.objects.update(owner_path="", latest_result=None, updated_at=timezone.now())
    import_module("commitments.migrations.0007_owner_path_latest_result").fill(apps, None)
    import_module("evaluations.migrations.0005_fill_latest_result").fill(apps, None)
    assert Commitment.objects.get(pk=org_c.pk).owner_path == world.branch_b.path
    assert Commitment.objects.get(pk=pledge.pk).latest_result == Fulfilment.PARTLY
    _consistent()
