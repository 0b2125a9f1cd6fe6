"""A pending review moves with its owner: a member transferred to another branch, an organisation
moved under another parent (orgs.signals → commitments.services.moves)."""
import datetime

from django.urls import reverse

from commitments.models import CommitmentStatus
from orgs import services as org_services
from orgs.models import AuditEvent, Role
from reviews.selectors import review_queue_for
from tests.conftest import make_user
from tests.reviews.builders import approve, submitted


def _pages(c):
    return [reverse("commitments:detail", args=[c.pk]), reverse("reviews:review", args=[c.pk]),
            reverse("commitments:version", args=[c.pk, 1]), reverse("commitments:form_pdf", args=[c.pk])]


def test_transferred_members_pending_pledge_is_reviewed_by_the_new_branch(world, as_user):
    pledge = submitted(world, member=world.member_b)
    assert pledge.reviewer_org == world.branch_b
    old = as_user(world.secretary_b)
    assert old.get(_pages(pledge)[0]).status_code == 200

    world.member_b.refresh_from_db()
    org_services.member_transfer(actor=world.committee_secretary, member=world.member_b, to_branch=world.branch_a,
                                 version=world.member_b.version, transferred_on=datetime.date(2010, 9, 1))

    pledge.refresh_from_db()
    assert pledge.reviewer_org == world.branch_a and pledge.owner_path == world.branch_a.path
    for url in _pages(pledge):
        assert old.get(url).status_code == 404, url
    assert pledge not in review_queue_for(world.secretary_b, campaign=world.campaign)
    assert pledge in review_queue_for(world.secretary_a, campaign=world.campaign)
    assert as_user(world.secretary_a).get(reverse("reviews:review", args=[pledge.pk])).status_code == 200
    approve(pledge, world.secretary_a)
    pledge.refresh_from_db()
    assert pledge.status == CommitmentStatus.APPROVED
    event = AuditEvent.objects.get(action="commitment.reviewer_move")
    assert event.actor == world.committee_secretary and event.object_id == str(pledge.pk)
    assert event.detail["from"] == world.branch_b.pk and event.detail["to"] == world.branch_a.pk


def test_decided_pledge_keeps_its_reviewer_after_a_transfer(world):
    pledge = submitted(world, member=world.member_b)
    approve(pledge, world.secretary_b)
    world.member_b.refresh_from_db()
    org_services.member_transfer(actor=world.committee_secretary, member=world.member_b, to_branch=world.branch_a,
                                 version=world.member_b.version)
    pledge.refresh_from_db()
    assert pledge.reviewer_org == world.branch_b and pledge.owner_path == world.branch_a.path
    assert not AuditEvent.objects.filter(action="commitment.reviewer_move").exists()


def test_moved_organisations_pending_commitment_is_reviewed_by_the_new_parent(world, as_user):
    own = submitted(world, organisation=world.branch_b)
    assert own.reviewer_org == world.committee
    new_secretary = make_user("c2_secretary", world.committee2, Role.SECRETARY, name="另一局书记")
    world.branch_b.refresh_from_db()
    org_services.organisation_move(actor=world.admin, org=world.branch_b, new_parent=world.committee2,
                                   version=world.branch_b.version)

    own.refresh_from_db()
    world.branch_b.refresh_from_db()
    assert own.reviewer_org == world.committee2 and own.owner_path == world.branch_b.path
    for url in _pages(own):
        assert as_user(world.committee_secretary).get(url).status_code == 404, url
    assert own in review_queue_for(new_secretary, campaign=world.campaign)
    approve(own, new_secretary)
    own.refresh_from_db()
    assert own.status == CommitmentStatus.APPROVED
    assert AuditEvent.objects.filter(action="commitment.reviewer_move", actor=world.admin).count() == 1
