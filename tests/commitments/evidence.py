"""Builders for 践诺 evidence and stamped scans: real PDF and image bytes, uploads, progress
records and scans made through the real services."""
import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from commitments import services
from commitments.models import Publication
from tests.conftest import make_campaign, make_commitment


def pdf_bytes(pages: int = 1, *, javascript: bool = False, attachment: bool = False, launch: bool = False,
              password: str = "") -> bytes:
    """A real PDF of blank A4 pages (pypdf), optionally with what an upload must refuse."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    if javascript:
        writer.root_object[NameObject("/OpenAction")] = DictionaryObject(
            {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("app.alert('hi');")})
    if attachment:
        writer.add_attachment("readme.txt", b"hidden")
    if launch:
        writer.root_object[NameObject("/OpenAction")] = DictionaryObject(
            {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe")})
    if password:
        writer.encrypt(password)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


PDF_BYTES = pdf_bytes()


def image_bytes(fmt="PNG", size=(4, 3)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, format=fmt)
    return buf.getvalue()


def png_upload(name="现场照片.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, image_bytes(), content_type="image/png")


def pdf_upload(name="总结.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def record(commitment, actor, *, is_public=False, visibility=None, files=(), item=None, completes_item=False,
           on=datetime.date(2010, 11, 1), done="走访困难群众3户"):
    """One progress entry through the service (on the first published item unless `item` is given),
    公开 with is_public, else at `visibility` (仅工作人员 by default)."""
    visibility = visibility or ("public" if is_public else "officers")
    item_id = item if item is not None else commitment.public_version.snapshot["items"][0]["id"]
    return services.progress_record(actor=actor, commitment=commitment, item_id=item_id, happened_on=on, done=done,
                                    effect="解决实际困难2件", completes_item=completes_item, visibility=visibility,
                                    files=list(files))


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
