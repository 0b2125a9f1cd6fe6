"""Permission-matrix entries for 践诺 progress records, plus evidence-file builders."""
import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from commitments import services
from orgs.models import Member
from tests.commitments.publishing import published
from tests.matrix_common import NO_ARGS, PERSONAS, Spec, allow, attr
from tests.orgs.matrix import MEMBER_EDIT


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
    from PIL import Image

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


def prepare(world):
    """Published pledges of fresh members in branches A, B, C, D, each with an internal and a public
    entry carrying one attachment each."""
    for key, branch in (("a", world.branch_a), ("b", world.branch_b), ("c", world.branch_c), ("d", world.branch_d)):
        reviewer = {"a": world.secretary_a, "b": world.secretary_b}.get(key, world.city_secretary)
        member = Member.objects.create(branch=branch, name=f"践诺{key}", gender="M")
        c = published(world, member=member, reviewer=reviewer, drafter=world.reviewer, publisher=world.reviewer)
        internal = record(c, world.reviewer, files=[png_upload()])
        public = record(c, world.reviewer, is_public=True, files=[pdf_upload()])
        members = record(c, world.reviewer, visibility="members", files=[png_upload()])
        setattr(world, f"prog_{key}", c)
        setattr(world, f"prog_att_members_{key}", members.attachments.get())
        setattr(world, f"prog_att_internal_{key}", internal.attachments.get())
        setattr(world, f"prog_att_public_{key}", public.attachments.get())


RELATIONS = (("own", "a"), ("sibling", "b"), ("cousin", "c"), ("other", "d"))
COMMITMENTS = {rel: attr(f"prog_{k}") for rel, k in RELATIONS}
INTERNAL = {**{rel: attr(f"prog_att_internal_{k}") for rel, k in RELATIONS},
            # 四（四）: a record shown to the members of the owning organisation, and one of a sibling's.
            "members": attr("prog_att_members_a"), "sibling_members": attr("prog_att_members_b")}
PUBLIC = {**{rel: attr(f"prog_att_public_{k}") for rel, k in RELATIONS},
          "internal": attr("prog_att_internal_a")}
# Readers of a member's pledge: officers over the branch and the reviewers (the branch's own
# secretaries, already officers); not the admin (三员分立). None of the owners has a login.
READ = MEMBER_EDIT
# Evidence: the readers see every level; member A (branch A) also the members-level record of branch A.
READ_EVIDENCE = {p: rels | ({"members"} if "own" in rels else set()) | ({"sibling_members"} if "sibling" in rels
                                                                         else set())
                 for p, rels in READ.items()} | {"member_a": {"members"}}
EVERYONE = {p: {rel for rel, _ in RELATIONS} for p in PERSONAS}

MATRIX = {
    "commitments:progress": Spec(COMMITMENTS, READ, methods=("GET",)),
    # Officers over the owner record (the member would too, on a written pledge of their own).
    "commitments:progress_record": Spec(COMMITMENTS, MEMBER_EDIT),
    "commitments:attachment": Spec(INTERNAL, READ_EVIDENCE, methods=("GET",)),
    # 本支部践诺: members only (member A); everyone else has no member record.
    "commitments:branch_progress": Spec(NO_ARGS, allow(["member_a"]), methods=("GET",)),
    "commitments:public_progress": Spec(COMMITMENTS, EVERYONE, methods=("GET",), public=True),
    # Public entries' files for anyone; an internal entry's file for nobody through this URL.
    "commitments:public_attachment": Spec(PUBLIC, EVERYONE, methods=("GET",), public=True),
}
