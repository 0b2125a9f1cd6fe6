"""No hard deletes of the record (等保二级): commitments, their versions and items, publications,
stamped scans of the printed forms, progress records and evidence, ballots, meeting tallies,
assessments, comments, rectification orders and steps, and audit rows refuse delete() one by one,
in bulk and through a relation. What a user takes back is marked (an item removed from a draft, a
tally voided or a stamped scan withdrawn with a reason)."""
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from commitments import services as commitment_services
from commitments.models import (Attachment, Commitment, CommitmentVersion, Exemption, Item, ProgressEntry, Publication,
                                StampedScan)
from evaluations import services as evaluation_services
from evaluations.models import (Assessment, Ballot, Evaluation, Fulfilment, LeaderComment, MeetingTally,
                                RectificationOrder, RectificationStep)
from orgs import audit
from orgs.models import AuditEvent
from tests.commitments.evidence import png_upload, record, upload
from tests.conftest import make_commitment
from tests.evaluations.builders import OPEN, assessed, cast, ordered, published_pledge, tally

KEPT = [Commitment, CommitmentVersion, Item, Publication, ProgressEntry, Attachment, StampedScan, Evaluation,
        LeaderComment, Ballot, MeetingTally, Assessment, RectificationOrder, RectificationStep, AuditEvent, Exemption]


@pytest.fixture
def full_record(world):
    """A published pledge with a record in every kept table."""
    c = published_pledge(world)
    record(c, world.staff_a, is_public=True, files=[png_upload()])
    upload(c, world.staff_a, display="beside")
    cast(c, "satisfied", n=2, today=OPEN)
    tally(world, c, satisfied=5, basic=1)
    evaluation_services.leader_comment_save(actor=world.secretary_a, commitment=c, rating="satisfied",
                                            comment="履诺扎实。")
    assessed(world, c, Fulfilment.PARTLY)  # 基本兑现: grounds for 责令整改
    ordered(world, c)
    commitment_services.exemption_propose(actor=world.staff_a, member=world.member_a2, campaign=c.campaign,
                                          kind="exempt", reason="长期病休")
    c.refresh_from_db()
    return c


def counts() -> dict:
    return {model.__name__: model.objects.count() for model in KEPT}


def test_every_kept_table_has_rows_in_the_fixture(full_record):
    assert all(counts().values()), counts()


@pytest.mark.parametrize("model", KEPT, ids=lambda m: m.__name__)
def test_a_kept_row_refuses_delete(full_record, model):
    before = counts()
    row = model.objects.order_by("pk").first()
    with pytest.raises(PermissionError, match="不能删除"):
        row.delete()
    with pytest.raises(PermissionError, match="不能删除"):
        model.objects.filter(pk=row.pk).delete()
    with pytest.raises(PermissionError, match="不能删除"):
        model.objects.all().delete()
    assert counts() == before


def test_related_managers_refuse_bulk_deletes_too(full_record):
    c = full_record
    before = counts()
    for related in (c.items, c.versions, c.publications, c.progress_entries, c.stamped_scans, c.ballots,
                    c.meeting_tallies, c.assessments, c.leader_comments, c.rectifications):
        with pytest.raises(PermissionError):
            related.all().delete()
    with pytest.raises(PermissionError):
        c.progress_entries.first().attachments.all().delete()
    with pytest.raises(PermissionError):
        c.rectifications.first().steps.all().delete()
    assert counts() == before


def test_deleting_the_owner_member_is_refused_while_a_commitment_exists(full_record):
    from django.db.models import ProtectedError
    with pytest.raises(ProtectedError):
        full_record.member.delete()
    assert Commitment.objects.filter(pk=full_record.pk).exists()


def test_an_item_dropped_from_a_draft_is_marked_removed_not_deleted(world):
    c = make_commitment(world.campaign, member=world.member_a, items=2, actor=world.staff_a)
    first, second = c.items.order_by("position")
    kept = {"id": first.pk, "content": first.content, "measures": first.measures, "deadline": first.deadline,
            "responsible": ""}
    commitment_services.commitment_save_draft(actor=world.staff_a, commitment=c, version=c.version,
                                              goal=c.goal, items=[kept])
    second.refresh_from_db()
    assert second.removed_at is not None
    assert c.items.count() == 2 and c.items.filter(removed_at__isnull=True).count() == 1


def test_a_wrong_stamped_scan_is_withdrawn_with_a_reason_and_stays_on_record(full_record, world):
    scan = full_record.stamped_scans.get()
    commitment_services.stamped_scan_withdraw(actor=world.staff_a, scan=scan, revision=scan.revision,
                                              reason="误传了其他支部的承诺书")
    scan.refresh_from_db()
    assert scan.is_withdrawn and scan.withdraw_reason == "误传了其他支部的承诺书"
    assert StampedScan.objects.filter(pk=scan.pk).exists()


def test_a_wrong_tally_is_voided_with_a_reason_and_stays_on_record(full_record, world):
    t = full_record.meeting_tallies.get()
    with pytest.raises(ValidationError):
        evaluation_services.tally_void(actor=world.staff_a, tally=t, reason="")
    evaluation_services.tally_void(actor=world.staff_a, tally=t, reason="计票录入错误")
    t.refresh_from_db()
    assert t.voided_at is not None and t.void_reason == "计票录入错误"
    assert MeetingTally.objects.filter(pk=t.pk).exists()


def test_audit_rows_are_append_only(full_record, world):
    event = audit.record(actor=world.admin, action="test.event", obj=full_record)
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    assert AuditEvent.objects.filter(pk=event.pk, action="test.event").exists()


# --- no service or view deletes a kept row -----------------------------------------------------

# `.delete(` calls allowed in the application code of core, commitments, reviews, evaluations and portal, with why.
ALLOWED_DELETES = {
    # Not a row: a stale entry of the coverage figures' cache, dropped after a recount.
    ("core/cache.py", "cache.delete(key)"),
}


def test_no_service_or_view_of_the_record_apps_deletes_rows():
    base = Path(settings.BASE_DIR)
    found = set()
    for app in ("core", "commitments", "reviews", "evaluations", "portal"):
        for path in (base / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            for match in re.finditer(r"[\w\.\)\]]*\.delete\([^)]*\)", text):
                line = text[text.rfind("\n", 0, match.start()) + 1:text.find("\n", match.end())]
                if line.strip().startswith(("#", '"""')) or "def delete" in line:
                    continue
                found.add((str(path.relative_to(base)), match.group(0)))
    assert found <= ALLOWED_DELETES, found - ALLOWED_DELETES
    assert found == ALLOWED_DELETES
