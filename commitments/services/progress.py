"""践诺: the record-keeping system (记实登记制度, 四（四）) and its evidence files.

Entries are recorded only on commitments that have a public version: a published one, or one
under revision, which keeps its published items in force until the revision is published. The
items an entry may name are the ones in that public version's snapshot (their ids are the
stable Item ids), so progress survives a revision and never lands on an unreviewed draft item.

Evidence files are checked by content (magic bytes, structure, and a full decode with Pillow for
images), written under generated names in MEDIA_ROOT/evidence and served only through views
that check permission. A download is an audited event.
"""
import datetime
import hashlib
import io
import re
import unicodedata
import uuid
import warnings
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from orgs import audit
from orgs.errors import Conflict

from .. import public_cache
from ..models import Attachment, Commitment, Item, ProgressEntry
from ..permissions import can_download_attachment, can_record_progress

EVIDENCE_DIR = "evidence"
# Content type and stored extension of each accepted kind.
KINDS = {"jpeg": ("image/jpeg", "jpg"), "png": ("image/png", "png"), "pdf": ("application/pdf", "pdf")}
# Photos from phones are large; anything past this is more likely a decompression bomb.
MAX_PIXELS = 50_000_000


def public_item_ids(commitment: Commitment) -> list[int]:
    """Ids of the items of the commitment's public version, in published order (needs public_version)."""
    if commitment.public_version_id is None:
        return []
    return [row["id"] for row in commitment.public_version.snapshot.get("items", [])]


# --- evidence files ---------------------------------------------------------------------------

_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')


def sanitise_name(name: str, ext: str) -> str:
    """A display name from an uploaded one: last path part, no control or path characters,
    and the extension of the detected content (a PDF called .jpg is shown as .pdf)."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[\\/]", name)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = _UNSAFE_NAME.sub("_", stem).strip(" ._")[:80] or "附件"
    return f"{stem}.{ext}"


def _detect(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"%PDF-"):
        return "pdf"
    return None


def _structure_ok(kind: str, data: bytes) -> bool:
    """Cheap checks that hold for real files and fail for a renamed or prefixed one."""
    if kind == "png":
        return data[12:16] == b"IHDR" and b"IEND" in data[-16:]
    if kind == "jpeg":
        return b"\xff\xd9" in data[-64:]
    return re.match(rb"%PDF-\d\.\d", data) is not None and b"%%EOF" in data[-1024:]


def _image_ok(kind: str, data: bytes) -> bool:
    """Decode the whole image with Pillow (when installed); the format must match the bytes."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is optional
        return True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if (img.format or "").lower() != kind:
                    return False
                width, height = img.size
                if width * height > MAX_PIXELS:
                    return False
                img.verify()
            with Image.open(io.BytesIO(data)) as img:
                img.load()
    except Exception:  # noqa: BLE001 - any decoding failure means "not a real image"
        return False
    return True


def check_evidence(upload) -> dict:
    """Read and check one uploaded file; its facts for storing, or a ValidationError (Chinese)."""
    label = sanitise_name(getattr(upload, "name", ""), "")[:-1] or "附件"
    limit = settings.EVIDENCE_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(f"“{label}”超过{limit // (1024 * 1024)}MB，请压缩后再上传。")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise ValidationError(f"“{label}”超过{limit // (1024 * 1024)}MB，请压缩后再上传。")
    if not data:
        raise ValidationError(f"“{label}”是空文件。")
    kind = _detect(data)
    if kind is None or not _structure_ok(kind, data) or (kind != "pdf" and not _image_ok(kind, data)):
        raise ValidationError(f"“{label}”不是有效的JPEG、PNG图片或PDF文档。")
    content_type, ext = KINDS[kind]
    return {"data": data, "content_type": content_type, "ext": ext, "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "original_name": sanitise_name(getattr(upload, "name", ""), ext)}


def evidence_path(relative: str) -> Path:
    """The absolute path of a stored file; refuses anything outside MEDIA_ROOT/evidence."""
    root = (Path(settings.MEDIA_ROOT) / EVIDENCE_DIR).resolve()
    path = (Path(settings.MEDIA_ROOT) / relative).resolve()
    if path.parent != root:
        raise FileNotFoundError(relative)
    return path


def _write(checked: dict) -> str:
    relative = f"{EVIDENCE_DIR}/{uuid.uuid4().hex}.{checked['ext']}"
    path = evidence_path(relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "xb") as fh:
        fh.write(checked["data"])
    return relative


# --- services ---------------------------------------------------------------------------------

def _owner_org(commitment: Commitment):
    return commitment.member.branch if commitment.member_id else commitment.organisation


def progress_record(*, actor, commitment: Commitment, item_id, happened_on: datetime.date | None, done: str,
                    effect: str = "", completes_item: bool = False, is_public: bool = False,
                    files=()) -> ProgressEntry:
    """The drafters (officers over the owner, or the member on their own written pledge) record
    one progress entry with its evidence on an item of the commitment's public version."""
    commitment = (Commitment.objects.select_related("organisation", "member__branch", "public_version")
                  .get(pk=commitment.pk))
    if not can_record_progress(actor, commitment):
        raise PermissionDenied
    if commitment.public_version_id is None:
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
                completes_item=completes_item, is_public=is_public, recorded_by=actor)
            for facts in checked:
                relative = _write(facts)
                written.append(relative)
                Attachment.objects.create(entry=entry, path=relative, original_name=facts["original_name"],
                                          content_type=facts["content_type"], size=facts["size"],
                                          sha256=facts["sha256"])
            audit.record(actor=actor, action="progress.record", obj=entry, organisation=_owner_org(commitment),
                         detail={"commitment": commitment.pk, "item": item_id, "on": happened_on.isoformat(),
                                 "completes_item": completes_item, "public": is_public,
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
                 organisation=_owner_org(attachment.entry.commitment),
                 detail={"entry": attachment.entry_id, "public": public, "sha256": attachment.sha256})
    return handle
