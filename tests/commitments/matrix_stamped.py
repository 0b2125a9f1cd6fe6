"""Permission-matrix entries for the stamped paper forms scanned back after 亮诺, and the builders
the stamped-scan tests share.

The officers who publish a commitment manage its scans (officers over the owner's branch); the
owner member views their own pledge's (member_a's pledge of an earlier campaign, so it cannot
clash with the other modules' pledges of member_a); the public sees only scans chosen for the
noticeboard. Everyone else: 404.
"""
import datetime

from django.core.files.uploadedfile import SimpleUploadedFile

from commitments import services
from commitments.models import Publication
from orgs.models import Member
from tests.commitments.matrix_progress import image_bytes, pdf_bytes
from tests.commitments.publishing import published
from tests.conftest import make_campaign, make_commitment
from tests.matrix_common import PERSONAS, Spec, attr
from tests.orgs.matrix import MEMBER_EDIT


def scan_png(name="盖章公示联.png", size=(60, 85)) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes(size=size), content_type="image/png")


def scan_pdf(name="盖章承诺书.pdf", **kw) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(**kw), content_type="application/pdf")


def upload(c, actor, *, copy="public", display="none", file=None, version=None):
    """One scan through the service, of the commitment's public version unless `version` is given."""
    return services.stamped_scan_upload(actor=actor, commitment=c, version_id=(version or c.public_version).pk,
                                        copy=copy, upload=file or scan_png(), public_display=display)


def published_earlier(world, member):
    """A published pledge of `member` in the 2009 campaign (written directly: its own campaign)."""
    campaign = make_campaign(2009, is_current=False)
    c = make_commitment(campaign, member=member, status="published", items=1, actor=world.staff_a)
    version = c.versions.get()
    Publication.objects.create(commitment=c, version=version, published_on=datetime.date(2009, 10, 20),
                               channels=["noticeboard"], published_by=world.staff_a)
    c.public_version = version
    c.save(update_fields=["public_version"])
    return c


def prepare(world):
    """Published pledges of fresh members in branches A, B, C, D, each with a scan of the 公示 copy
    shown beside the text; in A also one kept for the archive only; member_a's own (2009) pledge
    with a scan."""
    for key, branch in (("a", world.branch_a), ("b", world.branch_b), ("c", world.branch_c), ("d", world.branch_d)):
        reviewer = {"a": world.secretary_a, "b": world.secretary_b}.get(key, world.city_secretary)
        member = Member.objects.create(branch=branch, name=f"盖章{key}", gender="M")
        c = published(world, member=member, reviewer=reviewer, drafter=world.reviewer, publisher=world.reviewer)
        setattr(world, f"stamp_c_{key}", c)
        setattr(world, f"stamp_{key}", upload(c, world.reviewer, display="beside"))
    world.stamp_archive_a = upload(world.stamp_c_a, world.reviewer, copy="owner")
    mine = published_earlier(world, world.member_a)
    world.stamp_c_mine = mine
    world.stamp_mine = upload(mine, world.staff_a, copy="owner", file=scan_pdf())


RELATIONS = (("own", "a"), ("sibling", "b"), ("cousin", "c"), ("other", "d"))
COMMITMENTS = {**{rel: attr(f"stamp_c_{k}") for rel, k in RELATIONS}, "mine": attr("stamp_c_mine")}
SCANS = {**{rel: attr(f"stamp_{k}") for rel, k in RELATIONS}, "mine": attr("stamp_mine")}
PUBLIC = {**{rel: attr(f"stamp_{k}") for rel, k in RELATIONS}, "archive": attr("stamp_archive_a")}
# Officers over the owner's branch; member_a's 2009 pledge lies in branch A too.
MANAGE = {p: rels | ({"mine"} if "own" in rels else set()) for p, rels in MEMBER_EDIT.items()}
VIEW = {**MANAGE, "member_a": {"mine"}}
EVERYONE = {p: {rel for rel, _ in RELATIONS} for p in PERSONAS}

MATRIX = {
    "commitments:stamped_upload": Spec(COMMITMENTS, MANAGE),
    "commitments:stamped_scan": Spec(SCANS, VIEW, methods=("GET",)),
    "commitments:stamped_file": Spec(SCANS, VIEW, methods=("GET",)),
    "commitments:stamped_display": Spec(SCANS, MANAGE, methods=("POST",)),
    "commitments:stamped_withdraw": Spec(SCANS, MANAGE, methods=("POST",)),
    # Scans chosen for the noticeboard, for anyone; an archive-only one for nobody.
    "commitments:public_stamped": Spec(PUBLIC, EVERYONE, methods=("GET",), public=True),
}
