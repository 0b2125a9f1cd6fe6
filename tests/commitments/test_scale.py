"""seed_scale builds a consistent dataset: the shapes the services write, at any size."""
import io

import pytest
from django.core.management import call_command
from django.db.models import Count, F

from commitments.models import (LIVE_STATUSES, Campaign, Commitment, CommitmentStatus, CommitmentVersion, Item,
                                Publication, ReviewDecision, StampedScan)
from orgs.models import BRANCH_KINDS, Member, Organisation, RoleGrant
from portal.scale import seed_scale, tier_members


@pytest.mark.django_db
def test_a_consistent_tree_with_commitments_in_every_state():
    stats = seed_scale(members=600, year=2031, out=lambda *_: None)
    orgs = Organisation.objects.all()
    assert Member.objects.count() == 600 == stats.rows["orgs.Member"]
    # About one organisation per 20 members, 4 to 6 levels deep, members only in branches.
    assert 600 / 30 <= orgs.count() <= 600 / 12
    depths = set(orgs.values_list("depth", flat=True))
    assert min(depths) == 0 and 3 <= max(depths) <= 5
    assert not Member.objects.exclude(branch__kind__in=BRANCH_KINDS).exists()
    for org in orgs.select_related("parent"):
        assert org.path.startswith(org.parent.path if org.parent else "") and org.path.endswith(f"{org.pk:010d}/")
    campaign = Campaign.objects.get(year=2031)
    states = set(Commitment.objects.filter(campaign=campaign).values_list("status", flat=True))
    # Every state of the lifecycle but a discarded draft (withdrawn), which the bench does not need,
    # and 待本人确认: the generated members have no accounts, so none awaits its member.
    assert states == set(LIVE_STATUSES) - {CommitmentStatus.CONFIRMING}
    # Versions, decisions and publications belong to their own commitment; snapshots name real items.
    published = Commitment.objects.filter(status=CommitmentStatus.PUBLISHED)
    assert published.exists()
    assert not published.filter(public_version__isnull=True).exists()
    assert not published.exclude(public_version__commitment=F("pk")).exists()
    assert not ReviewDecision.objects.exclude(version__commitment=F("commitment")).exists()
    assert Publication.objects.count() == published.count()
    # Two in three published ones have the stamped form of their public version on file.
    scans = StampedScan.objects.all()
    assert 0 < scans.count() < published.count()
    assert not scans.exclude(version=F("commitment__public_version")).exists()
    for version in CommitmentVersion.objects.order_by("?")[:50]:
        ids = [i["id"] for i in version.snapshot["items"]]
        assert set(Item.objects.filter(commitment=version.commitment_id).values_list("id", flat=True)) == set(ids)
    submitted = Commitment.objects.exclude(status=CommitmentStatus.DRAFT)
    assert not submitted.annotate(n=Count("versions")).filter(n=0).exists()
    # Every branch has a secretary who can log in.
    assert RoleGrant.objects.filter(organisation__kind__in=BRANCH_KINDS, role="secretary").count() == \
        orgs.filter(kind__in=BRANCH_KINDS).count()


@pytest.mark.django_db
def test_the_command_refuses_a_year_that_has_data_and_names_tiers():
    call_command("seed_scale", members="40", year=2032, stdout=io.StringIO())
    with pytest.raises(Exception) as exc:
        call_command("seed_scale", members="40", year=2032, stdout=io.StringIO())
    assert "2032年度已有数据" in str(exc.value)
    assert tier_members("city") == 20_000 and tier_members("province") == 1_000_000
    # A second year adds a second tree next to the first, with codes that do not collide.
    call_command("seed_scale", members="40", year=2033, stdout=io.StringIO())
    assert Organisation.objects.filter(parent__isnull=True).count() == 2
