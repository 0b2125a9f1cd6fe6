"""Uploaded files kept with the record: 践诺 evidence (services/progress.py) and the stamped paper
forms of 亮诺 (services/stamped.py). One set of checks and one way of storing for both.

Checks are by content, never by name or declared type: the magic bytes, the structure, then for
images a full decode with Pillow (the format must match the bytes, the pixel count stays under a
bomb limit) and for PDFs a parse with pypdf (not encrypted, at least one and at most N pages, and
nothing that runs: no JavaScript, embedded files, launch or form-submission actions, anywhere in
the object graph). Files are written under generated names in one folder of MEDIA_ROOT per kind
and served only through views that check permission; the uploaded name is kept, sanitised, only
to be shown.
"""
import hashlib
import io
import re
import unicodedata
import uuid
import warnings
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from PIL import Image, ImageOps
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

# The folders of MEDIA_ROOT the files are kept in.
STAMPED_DIR = "stamped"
# Content type and stored extension of each accepted kind.
KINDS = {"jpeg": ("image/jpeg", "jpg"), "png": ("image/png", "png"), "pdf": ("application/pdf", "pdf")}
# Photos from phones are large; anything past this is more likely a decompression bomb.
MAX_PIXELS = 50_000_000
# Objects a PDF's graph is walked through before it is refused as too complex to vet.
MAX_PDF_OBJECTS = 20_000
# Keys and names that make a PDF do something when opened or clicked (PDF 32000-1 §12.6, §7.11.4,
# §12.7.8 XFA, Adobe's RichMedia): scripts, files carried inside, programs started, forms sent away.
PDF_ACTIVE_KEYS = frozenset({"/JavaScript", "/JS", "/EmbeddedFiles", "/EmbeddedFile", "/XFA", "/RichMedia"})
PDF_ACTIVE_NAMES = frozenset({"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToE", "/RichMediaExecute",
                              "/EmbeddedFile", "/FileAttachment", "/RichMedia"})
# The copy of an image shown to the public: phone-sized, upright, without metadata (a phone photo's
# EXIF may carry where and when it was taken, and the camera's owner).
DISPLAY_MAX_SIDE = 2000

_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')


class _ActivePdf(Exception):
    """The PDF holds something that runs (see PDF_ACTIVE_KEYS)."""


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


def _image_size(kind: str, data: bytes) -> tuple[int, int] | None:
    """Decode the whole image with Pillow; its (width, height), or None when it is not a real
    image of that format (truncated, corrupt, a bomb)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:
                if (img.format or "").lower() != kind:
                    return None
                width, height = img.size
                if width * height > MAX_PIXELS:
                    return None
                img.verify()
            with Image.open(io.BytesIO(data)) as img:
                img.load()
    except Exception:  # noqa: BLE001 - any decoding failure means "not a real image"
        return None
    return width, height


def _walk_pdf(reader: PdfReader) -> None:
    """Visit every object reachable from the trailer (streams by their dictionaries only); raise
    _ActivePdf on an active key or name, ValueError past MAX_PDF_OBJECTS."""
    seen: set[tuple[int, int]] = set()
    stack = [reader.trailer]
    visited = 0
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            ref = (obj.idnum, obj.generation)
            if ref in seen:
                continue
            seen.add(ref)
            obj = obj.get_object()
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            raise ValueError("too many objects")
        if isinstance(obj, DictionaryObject):  # streams are dictionaries too
            for key, value in obj.items():
                if key in PDF_ACTIVE_KEYS:
                    raise _ActivePdf(key)
                stack.append(value)
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
        elif isinstance(obj, NameObject) and obj in PDF_ACTIVE_NAMES:
            raise _ActivePdf(str(obj))


def _pdf_pages(data: bytes, label: str, max_pages: int) -> int:
    """Parse with pypdf; the page count, or a ValidationError that says what is wrong."""
    invalid = ValidationError(f"“{label}”不是有效的JPEG、PNG图片或PDF文档。")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise ValidationError(f"“{label}”是加密或设有密码的PDF文档，无法核验内容，请取消密码保护后再上传。")
        pages = len(reader.pages)
        _walk_pdf(reader)
    except ValidationError:
        raise
    except _ActivePdf:
        raise ValidationError(f"“{label}”含有脚本、嵌入文件或自动执行的动作，不能上传。"
                              "请用扫描仪直接生成PDF，或拍照后上传JPEG、PNG图片。") from None
    except Exception:  # noqa: BLE001 - pypdf raises many kinds (and RecursionError) on broken files
        raise invalid from None
    if pages < 1:
        raise invalid
    if pages > max_pages:
        raise ValidationError(f"“{label}”有{pages}页，超过{max_pages}页的上限。")
    return pages


def check_upload(upload, *, limit: int, max_pages: int, default_name: str = "附件") -> dict:
    """Read and check one uploaded file; its facts for storing, or a ValidationError (Chinese).

    The facts: data, content_type, ext, size, sha256, original_name, and for images width and
    height, for PDFs pages."""
    label = sanitise_name(getattr(upload, "name", ""), "")[:-1] or default_name
    too_big = ValidationError(f"“{label}”超过{limit // (1024 * 1024)}MB，请压缩后再上传。")
    if upload.size > limit:
        raise too_big
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise too_big
    if not data:
        raise ValidationError(f"“{label}”是空文件。")
    kind = _detect(data)
    if kind is None or not _structure_ok(kind, data):
        raise ValidationError(f"“{label}”不是有效的JPEG、PNG图片或PDF文档。")
    facts = {"width": None, "height": None, "pages": None}
    if kind == "pdf":
        facts["pages"] = _pdf_pages(data, label, max_pages)
    else:
        size = _image_size(kind, data)
        if size is None:
            raise ValidationError(f"“{label}”不是有效的JPEG、PNG图片或PDF文档。")
        facts["width"], facts["height"] = size
    content_type, ext = KINDS[kind]
    return {**facts, "data": data, "content_type": content_type, "ext": ext, "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "original_name": sanitise_name(getattr(upload, "name", ""), ext)}


def display_copy(checked: dict) -> dict:
    """For a checked image: a copy to show the public, turned upright as the camera meant, at most
    DISPLAY_MAX_SIDE pixels a side, re-encoded without any metadata (EXIF, GPS, comments).
    Facts like check_upload's (data, ext, content_type, size, width, height)."""
    with Image.open(io.BytesIO(checked["data"])) as img:
        img = ImageOps.exif_transpose(img)
        if img.mode in ("1", "P"):
            img = img.convert("RGBA")
        img.thumbnail((DISPLAY_MAX_SIDE, DISPLAY_MAX_SIDE))
        out = io.BytesIO()
        if checked["ext"] == "png":
            img.save(out, format="PNG", optimize=True)
        else:
            img.convert("RGB").save(out, format="JPEG", quality=85, optimize=True, progressive=True)
        width, height = img.size
    data = out.getvalue()
    return {"data": data, "ext": checked["ext"], "content_type": checked["content_type"], "size": len(data),
            "width": width, "height": height}


def stored_path(relative: str, folder: str) -> Path:
    """The absolute path of a stored file; refuses anything outside MEDIA_ROOT/<folder>."""
    root = (Path(settings.MEDIA_ROOT) / folder).resolve()
    path = (Path(settings.MEDIA_ROOT) / relative).resolve()
    if path.parent != root:
        raise FileNotFoundError(relative)
    return path


def stamped_path(relative: str) -> Path:
    """The absolute path of a stored stamped scan (or its display copy)."""
    return stored_path(relative, STAMPED_DIR)


def write(checked: dict, folder: str) -> str:
    """Store checked bytes under a generated name in MEDIA_ROOT/<folder>; the relative path."""
    relative = f"{folder}/{uuid.uuid4().hex}.{checked['ext']}"
    path = stored_path(relative, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "xb") as fh:
        fh.write(checked["data"])
    return relative
