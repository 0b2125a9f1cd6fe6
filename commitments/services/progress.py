"""践诺: the record-keeping system (记实登记制度, 四（四）) and its evidence files.

Entries are recorded only on commitments that have a public version: a published one, or one
under revision, which keeps its published items in force until the revision is published. The
items an entry may name are the ones in that public version's snapshot (their ids are the
stable Item ids), so progress survives a revision and never lands on an unreviewed draft item.

Evidence files are checked by content (commitments/uploads.py: magic bytes, structure, a full
decode with Pillow for images, a parse with pypdf for PDFs), written under generated names in
MEDIA_ROOT/evidence and served only through views that check permission. A download is an
audited event.
"""
import datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict
from orgs import audit

from .. import public_cache, uploads
from ..lifecycle import is_in_force
from ..models import Attachment, Commitment, Item, ProgressEntry, ProgressVisibility
from ..permissions import can_download_attachment, can_record_progress

EVIDENCE_DIR = "evidence"


def public_item_ids(commitment: Commitment) -> list[int]:
    """Ids of the items of the commitment's public version, in published order (needs public_version)."""
    if commitment.public_version_id is None:
        return []
    return [row["id"] for row in commitment.public_version.snapshot.get("items", [])]


# --- evidence files ---------------------------------------------------------------------------

def check_evidence(upload) -> dict:
    """Read and check one uploaded evidence file (commitments/uploads.py); its facts for storing,
    or a ValidationError (Chinese)."""
    return uploads.check_upload(upload, limit=settings.EVIDENCE_MAX_BYTES, max_pages=settings.EVIDENCE_MAX_PAGES)


def evidence_path(relative: str) -> Path:
    """The absolute path of a stored evidence file; refuses anything outside MEDIA_ROOT/evidence."""
    return uploads.stored_path(relative, EVIDENCE_DIR)


# --- services ---------------------------------------------------------------------------------

def progress_record(*, actor, commitment: Commitment, item_id, happened_on: datetime.date | None, done: str,
                    effect: str = "", completes_item: bool = False,
                    visibility: str = ProgressVisibility.OFFICERS, files=()) -> ProgressEntry:
    """The drafters (officers over the owner, or the member on their own written pledge) record
    one progress entry with its evidence on an item of the commitment's public version."""
    commitment = (Commitment.objects.select_related("organisation", "member__branch", "public_version")
                  .get(pk=commitment.pk))
    if not can_record_progress(actor, commitment):
        raise PermissionDenied
    if not is_in_force(commitment):
        raise Conflict("该承诺尚未公开，公开后才能登记践诺情况。")
    errors: dict[str, list[str]] = {}
    try:
        item_id = int(item_id)
    except (TypeError, ValueError):
        item_id = None
    if item_id not in public_item_ids(commitment):
        errors["item"] = ["请选择本承诺已公开的承诺事项。"]
    if happened_on is None:
        errors["happened_on"] = ["请填写日期。"]
    elif happened_on > timezone.localdate():
        errors["happened_on"] = ["日期不能晚于今天。"]
    done, effect = (done or "").strip(), (effect or "").strip()
    if not done:
        errors["done"] = ["请填写做了什么。"]
    if visibility not in ProgressVisibility.values:
        errors["visibility"] = ["请选择公示范围。"]
    files = list(files or [])
    checked = []
    if len(files) > settings.EVIDENCE_MAX_FILES:
        errors["files"] = [f"每条记录最多上传{settings.EVIDENCE_MAX_FILES}个佐证材料。"]
    else:
        for upload in files:
            try:
                checked.append(check_evidence(upload))
            except ValidationError as exc:
                errors.setdefault("files", []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)

    written = []
    try:
        with transaction.atomic():
            item = Item.objects.get(pk=item_id, commitment=commitment)
            entry = ProgressEntry.objects.create(
                commitment=commitment, item=item, happened_on=happened_on, done=done, effect=effect,
                completes_item=completes_item, visibility=visibility, recorded_by=actor)
            for facts in checked:
                relative = uploads.write(facts, EVIDENCE_DIR)
                written.append(relative)
                Attachment.objects.create(entry=entry, path=relative, original_name=facts["original_name"],
                                          content_type=facts["content_type"], size=facts["size"],
                                          sha256=facts["sha256"])
            audit.record(actor=actor, action="progress.record", obj=entry, organisation=commitment.owner_org,
                         detail={"commitment": commitment.pk, "item": item_id, "on": happened_on.isoformat(),
                                 "completes_item": completes_item, "visibility": visibility,
                                 "attachments": [f["sha256"] for f in checked]})
            public_cache.changed()
    except BaseException:
        # The rows are gone with the transaction; the files must go too. (If an outer transaction
        # rolls back later, orphan files remain: harmless, no row points at them.)
        for relative in written:
            evidence_path(relative).unlink(missing_ok=True)
        raise
    return entry


@transaction.atomic
def attachment_download(*, actor, attachment: Attachment, public: bool = False):
    """Anyone allowed by can_download_attachment opens the file; each download is audited."""
    if not can_download_attachment(actor, attachment, public=public):
        raise PermissionDenied
    handle = open(evidence_path(attachment.path), "rb")  # noqa: SIM115 - FileResponse closes it
    audit.record(actor=actor, action="attachment.download", obj=attachment,
                 organisation=attachment.entry.commitment.owner_org,
                 detail={"entry": attachment.entry_id, "public": public, "sha256": attachment.sha256})
    return handle
