"""Printable forms (四（三）公开亮诺): 附件1 基层党组织公开承诺书 and 附件2 党员公开承诺书.

The approved text is filled into the annex forms of the guidance and printed in triplicate
(附件1: 本组织存 / 上一级党组织存 / 公示; 附件2: 本人存 / 党组织存 / 公示). Everything goes through
`render_pdf(template_name, context)`: Django templates (user text autoescaped) rendered by
WeasyPrint with a fetcher that reads only the project's own static files and data: URLs, never
the file system or the network, and with the vendored fonts of static/fonts.

A submitted version and a review decision never change, but the printed form also shows the
member's record and the organisation's name and 监督电话, which can. So a rendered form is cached
on disk under a name made of the version, the decision and a digest of everything it prints
(plus TEMPLATE_REVISION): a reprint is a file read, and an edited record can never be served stale.
A batch is made of the same files: the missing forms are rendered (a chunk at a time) into the
cache, then the forms' PDFs are concatenated page by page into one file (PdfConcatenation), so
a batch printed again renders nothing and a batch of any size needs the memory of one chunk.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import mimetypes
import os
import tempfile
import threading
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes

from django.apps import apps
from django.conf import settings
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse

from orgs.templatetags.cn import cn_date, cn_month

from .models import Commitment, CommitmentStatus, CommitmentVersion, Publication

# Bump when a template, the stylesheet or a font changes: cached PDFs are then rendered again.
TEMPLATE_REVISION = "2026.1"
CACHE_DIR_NAME = "forms"
STATIC_SCHEME = "static:"

ANNEX1, ANNEX2 = "annex1", "annex2"
KINDS = {
    # kind: (annex label, title, the three copies in the order of the annex's foot note)
    ANNEX1: ("附件1", "基层党组织公开承诺书", ("本组织存", "上一级党组织存", "公示")),
    ANNEX2: ("附件2", "党员公开承诺书", ("本人存", "党组织存", "公示")),
}
PUBLIC_COPY = "公示"
PRINTABLE_STATUSES = (CommitmentStatus.APPROVED, CommitmentStatus.PUBLISHED)


# --- the locked-down fetcher ---------------------------------------------------------------------

class FetchRefused(ValueError):
    """WeasyPrint asked for something other than a static file of this project or a data: URL."""


def _static_roots() -> list[Path]:
    roots = []
    for entry in settings.STATICFILES_DIRS:
        roots.append(Path(entry[1] if isinstance(entry, (tuple, list)) else entry))
    roots += [Path(app.path) / "static" for app in apps.get_app_configs()]
    return [root.resolve() for root in roots if root.is_dir()]


def static_file(relative: str) -> Path:
    """The file under one of the project's static roots that `relative` names; FetchRefused for
    anything else (`..`, absolute paths, backslashes, symlinks leading out)."""
    relative = unquote(relative).lstrip("/")
    parts = relative.split("/")
    if not relative or "\\" in relative or "\x00" in relative or any(p in ("", ".", "..") for p in parts):
        raise FetchRefused(f"not a static path: {relative!r}")
    for root in _static_roots():
        candidate = (root / relative).resolve()
        if candidate.is_relative_to(root) and candidate.is_file():
            return candidate
    raise FetchRefused(f"no such static file: {relative!r}")


def _data_url(url: str) -> tuple[bytes, str]:
    header, sep, payload = url[len("data:"):].partition(",")
    if not sep:
        raise FetchRefused("malformed data: URL")
    params = header.split(";")
    mime = params[0] or "text/plain"
    if "base64" in params[1:]:
        return base64.b64decode(payload), mime
    return unquote_to_bytes(payload), mime


def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        """Serves `static:<path>` from the project's static files and `data:` URLs; refuses the
        rest (file://, http(s)://, relative paths) without opening anything."""

        def __init__(self):
            super().__init__(allowed_protocols=("static", "data"), allow_redirects=False)

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                body, mime = _data_url(url)
            elif url.startswith(STATIC_SCHEME):
                path = static_file(url[len(STATIC_SCHEME):])
                body = path.read_bytes()
                mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            else:
                raise FetchRefused(f"refused: {url[:80]!r}")
            return URLFetcherResponse(url, body=body, headers={"Content-Type": mime})

    return StaticOnlyFetcher


@functools.cache
def safe_fetcher():
    """The one fetcher every render uses."""
    return _fetcher_class()()


@functools.cache
def _font_config():
    # One FontConfiguration per process: the @font-face files are read and registered once.
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


# Pango and fontconfig objects are shared by the renders of a process; one render at a time.
_render_lock = threading.Lock()


def html_to_pdf(html: str) -> bytes:
    """WeasyPrint, with the safe fetcher and the shared fonts. Every PDF is made here."""
    from weasyprint import HTML

    with _render_lock:
        # The base URL has a scheme that cannot resolve relative references, so a relative
        # src or href reaches the fetcher as it was written and is refused.
        document = HTML(string=html, base_url=STATIC_SCHEME, url_fetcher=safe_fetcher())
        return document.write_pdf(font_config=_font_config())


def render_pdf(template_name: str, context: dict) -> bytes:
    """Render a template of templates/<app>/pdf/ to PDF bytes."""
    return html_to_pdf(render_to_string(template_name, context))


# --- what a form prints --------------------------------------------------------------------------

_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1 → 一, 10 → 十, 15 → 十五, 21 → 二十一 (item numbers on the form)."""
    if n < 10:
        return _DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return f"{'' if tens == 1 else _DIGITS[tens]}十{_DIGITS[ones] if ones else ''}"
    return str(n)


def qr_data_url(url: str) -> str:
    """The QR code of `url` as an SVG data: URL (segno, no network, no image library)."""
    import segno

    return segno.make(url, error="m").svg_data_uri(scale=4, border=0)


def public_url(commitment_id: int) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("commitments:public_commitment", args=[commitment_id])


def printable_version(commitment: Commitment, latest: CommitmentVersion | None) -> CommitmentVersion | None:
    """The version the forms print, or None.

    Approved: the version just approved (it is about to be published; `public_version` may still
    be an earlier one). Published: the public version. Reopened for revision (draft, submitted,
    returned): the public version, which stays on the noticeboard until the revision is published.
    Never published and not approved: nothing to print.
    """
    if commitment.status == CommitmentStatus.APPROVED:
        return latest
    if commitment.public_version_id is not None:
        return commitment.public_version
    if commitment.status == CommitmentStatus.PUBLISHED:
        return latest
    return None


def _may_print_q() -> Q:
    return Q(status__in=PRINTABLE_STATUSES) | Q(public_version__isnull=False)


def _copies(kind: str) -> list[dict]:
    return [{"label": label, "public": label == PUBLIC_COPY} for label in KINDS[kind][2]]


def _owner_fields(commitment: Commitment) -> dict:
    if commitment.member_id is None:
        org = commitment.organisation
        return {"org_name": org.name, "phone": org.supervision_phone}
    member = commitment.member
    return {
        "name": member.name, "gender": member.get_gender_display(), "birth": cn_month(member.birth_month),
        "post": member.post, "joined": cn_month(member.joined_party_on), "branch": member.branch.name,
        "phone": member.branch.supervision_phone,
    }


def _form(commitment: Commitment, version: CommitmentVersion, decision, published_on) -> dict:
    kind = ANNEX2 if commitment.member_id else ANNEX1
    snapshot = version.snapshot
    oral_note = ""
    if snapshot.get("is_oral"):
        oral_note = f"口头承诺，由{snapshot.get('recorder') or '党支部工作人员'}代为记录"
    return {
        "kind": kind, "annex": KINDS[kind][0], "title": KINDS[kind][1], "copies": _copies(kind),
        "commitment_id": commitment.pk, "version_id": version.pk, "version_number": version.number,
        "decision_id": decision.pk,
        "owner_name": commitment.owner_name, "fields": _owner_fields(commitment),
        "goal_label": commitment.goal_label, "goal": snapshot.get("goal", ""),
        "measures_label": commitment.measures_label,
        "items": [{
            "number": cn_number(n), "content": item.get("content", ""), "measures": item.get("measures", ""),
            "deadline": cn_date(item.get("deadline", "")), "responsible": item.get("responsible", ""),
        } for n, item in enumerate(snapshot.get("items", []), start=1)],
        "oral_note": oral_note,
        "opinion": decision.opinion, "decided_on": cn_date(decision.decided_at),
        "signed_on": cn_date(published_on) if published_on else "",
        "public_url": public_url(commitment.pk),
    }


def forms_for(commitments: list[Commitment]) -> list[dict]:
    """The printable forms of `commitments` (in their order), skipping any without an approved
    version. Three queries whatever the number: latest versions, decisions, publications.
    The commitments need organisation, member, member__branch and public_version selected."""
    from reviews.models import Decision, ReviewDecision

    need_latest = [c.pk for c in commitments if c.status == CommitmentStatus.APPROVED or c.public_version_id is None]
    latest: dict[int, CommitmentVersion] = {}
    if need_latest:
        for v in CommitmentVersion.objects.filter(commitment_id__in=need_latest).order_by("commitment_id", "number"):
            latest[v.commitment_id] = v
    chosen = {c.pk: printable_version(c, latest.get(c.pk)) for c in commitments}
    version_ids = [v.pk for v in chosen.values() if v is not None]
    decisions, published = {}, {}
    if version_ids:
        # The latest approval of a version gives the 审定意见 and its date.
        for d in (ReviewDecision.objects.filter(version_id__in=version_ids, decision=Decision.APPROVE)
                  .only("id", "version_id", "opinion", "decided_at").order_by("decided_at", "id")):
            decisions[d.version_id] = d
        # The first publication of a version is the day it went public.
        for p in (Publication.objects.filter(version_id__in=version_ids)
                  .only("id", "version_id", "published_on").order_by("-published_on", "-id")):
            published[p.version_id] = p.published_on
    forms = []
    for c in commitments:
        version = chosen[c.pk]
        if version is None or version.pk not in decisions:
            continue
        forms.append(_form(c, version, decisions[version.pk], published.get(version.pk)))
    return forms


def form_for(commitment: Commitment) -> dict | None:
    """The printable form of one commitment, or None when it has no approved version to print."""
    forms = forms_for([commitment])
    return forms[0] if forms else None


def blank_form(kind: str) -> dict:
    """An empty form to fill in by hand, in triplicate like a filled one."""
    return {
        "kind": kind, "annex": KINDS[kind][0], "title": KINDS[kind][1], "copies": _copies(kind),
        "blank": True, "fields": {}, "items": [], "owner_name": "", "public_url": "",
    }


def batch_commitments(org, campaign, *, own_only: bool = False) -> list[Commitment]:
    """Commitments with something to print in `org`'s subtree (or, with own_only, the organisation
    itself and its members): organisations' first, then members' pledges, both in tree order."""
    if own_only:
        owner = Q(organisation=org) | Q(member__branch=org)
    else:
        owner = Q(owner_path__startswith=org.path)
    rows = list(Commitment.objects.filter(owner, _may_print_q(), campaign=campaign)
                .select_related("organisation", "member", "member__branch", "public_version"))

    def tree_order(c):
        if c.member_id is None:
            return (0, c.organisation.path, "", c.pk)
        return (1, c.member.branch.path, c.member.name, c.pk)

    return sorted(rows, key=tree_order)


def filename_for(form: dict) -> str:
    """党员公开承诺书-张伟.pdf; 党员公开承诺书-空白.pdf for a blank one."""
    return f"{form['title']}-{form['owner_name'] or '空白'}.pdf"


# --- rendering and the cache ---------------------------------------------------------------------

DOCUMENT_TEMPLATE = "commitments/pdf/forms.html"


def _document_context(forms: list[dict], *, title: str) -> dict:
    rendered = []
    for form in forms:
        qr = qr_data_url(form["public_url"]) if form.get("public_url") else ""
        rendered.append({**form, "template": f"commitments/pdf/{form['kind']}.html", "qr": qr})
    return {"forms": rendered, "document_title": title}


def _digest(forms: list[dict]) -> str:
    payload = json.dumps([TEMPLATE_REVISION, settings.SITE_URL, forms], sort_keys=True, ensure_ascii=False,
                         default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def cache_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / CACHE_DIR_NAME


def _cache_prefix(form: dict) -> str:
    if form.get("blank"):
        return f"{form['kind']}-blank-"
    return f"{form['kind']}-v{form['version_id']}-d{form['decision_id']}-"


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pdf")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _cache_path(form: dict) -> Path:
    return cache_dir() / f"{_cache_prefix(form)}{_digest([form])}.pdf"


def _store(form: dict, path: Path, data: bytes) -> None:
    _write_atomic(path, data)
    # Older renders of the same version and decision (before a record changed) are dead now.
    for stale in path.parent.glob(f"{_cache_prefix(form)}*.pdf"):
        if stale != path:
            stale.unlink(missing_ok=True)


def form_pdf(form: dict) -> tuple[bytes, bool]:
    """One form in triplicate, from the cache when it holds exactly this text; (bytes, from_cache)."""
    path = _cache_path(form)
    try:
        return path.read_bytes(), True
    except FileNotFoundError:
        pass
    data = render_pdf(DOCUMENT_TEMPLATE, _document_context([form], title=filename_for(form)[:-4]))
    _store(form, path, data)
    return data, False


# --- batches: the cached forms, concatenated -------------------------------------------------------

# Missing forms laid out in one WeasyPrint pass, then written one PDF per form: ~12 % less CPU a
# form than a pass each (measured with 5, 10 and 20: 10 was best), and the memory of one chunk's
# layout (WeasyPrint keeps every page of a document until it is written).
RENDER_CHUNK = 10


def render_forms(forms: list[dict]) -> list[bytes] | None:
    """Several forms laid out in one pass (one HTML document) and written as one PDF per form,
    each the same as form_pdf would render it, title included. A form starts on the page of its
    first copy's title (each copy's <h1>, a bookmark, starts a new page); None when the pages do
    not divide so (then render the forms one by one)."""
    from weasyprint import HTML

    html = render_to_string(DOCUMENT_TEMPLATE, _document_context(forms, title=""))
    with _render_lock:
        document = HTML(string=html, base_url=STATIC_SCHEME, url_fetcher=safe_fetcher()).render(
            font_config=_font_config())
        starts = [i for i, page in enumerate(document.pages) if any(b[0] == 1 for b in page.bookmarks)]
        if len(starts) != sum(len(form["copies"]) for form in forms) or (starts and starts[0] != 0):
            return None
        firsts, copy = [], 0
        for form in forms:
            firsts.append(starts[copy])
            copy += len(form["copies"])
        firsts.append(len(document.pages))
        result = []
        for i, form in enumerate(forms):
            document.metadata.title = filename_for(form)[:-4]
            result.append(document.copy(document.pages[firsts[i]:firsts[i + 1]]).write_pdf())
        return result


def render_missing(forms: list[dict], *, on_progress=None) -> int:
    """Put every form of `forms` into the cache, rendering only those not there yet, RENDER_CHUNK
    at a time in one pass; on_progress(done) after each chunk (forms found in the cache count as
    done). Returns how many forms were rendered. Memory holds one chunk's layout at a time."""
    missing = [(i, form) for i, form in enumerate(forms) if not _cache_path(form).exists()]
    done_before = 0  # forms before the current chunk's last one, all in the cache by then
    for start in range(0, len(missing), RENDER_CHUNK):
        chunk = [form for _, form in missing[start:start + RENDER_CHUNK]]
        rendered = render_forms(chunk) if len(chunk) > 1 else None
        if rendered is None:
            for form in chunk:
                form_pdf(form)
        else:
            for form, data in zip(chunk, rendered):
                _store(form, _cache_path(form), data)
        done_before = missing[start + len(chunk) - 1][0] + 1
        if on_progress is not None:
            on_progress(done_before)
    if on_progress is not None and done_before < len(forms):
        on_progress(len(forms))
    return len(missing)


def write_forms_pdf(forms: list[dict], out, *, title: str) -> int:
    """Several forms, each in triplicate, as one PDF written to the binary file `out` as it goes:
    each form's own PDF (from the cache, rendered when missing) is appended in turn, so memory
    holds one form at a time whatever the size of the batch. Returns the number of pages."""
    render_missing(forms)
    concatenation = PdfConcatenation(out, title=title)
    for form in forms:  # form_pdf renders again a form whose file went in the meantime
        concatenation.append(form_pdf(form)[0])
    return concatenation.close()


def forms_pdf(forms: list[dict], *, title: str) -> bytes:
    """Several forms, each in triplicate, in one PDF made of the forms' cached PDFs: a batch
    renders only the forms never printed before (or changed since), and a reprint none."""
    buffer = io.BytesIO()
    write_forms_pdf(forms, buffer, title=title)
    return buffer.getvalue()


class PdfConcatenation:
    """The pages of several PDFs as one PDF, written to a binary file as they come.

    Each appended PDF is read with pypdf, the objects its pages use (contents, resources, fonts,
    images) are renumbered and written out at once, and the input is dropped: what stays in
    memory is a file offset per object, a number per page and the bookmarks. (pypdf's PdfWriter
    keeps every page and font of the batch until write().) Made for this module's own renders:
    pages and their bookmarks are carried over, nothing else of an input's catalog. The document
    information (Producer, Creator) and language are the first input's; the title is `title`.
    """

    def __init__(self, out, *, title: str):
        self.out, self.title, self.position = out, title, 0
        self.offsets: list[int | None] = []  # offsets[n - 1]: where object n starts
        self.pages: list[int] = []
        self.bookmarks: list[tuple[str, list]] = []  # (title, destination array)
        self.info: dict = {}
        self.lang = None
        self.subsets = 0  # font subsets renamed so far (each gets its own tag)
        self._write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        self.pages_root = self._reserve()

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.position += len(data)

    def _reserve(self) -> int:
        self.offsets.append(None)
        return len(self.offsets)

    def _ref(self, number: int):
        from pypdf.generic import IndirectObject

        return IndirectObject(number, 0, None)

    def _write_object(self, number: int, obj) -> None:
        buffer = io.BytesIO()
        buffer.write(b"%d 0 obj\n" % number)
        obj.write_to_stream(buffer)
        buffer.write(b"\nendobj\n")
        self.offsets[number - 1] = self.position
        self._write(buffer.getvalue())

    def append(self, data: bytes) -> int:
        """Add the pages of one PDF; returns how many."""
        from pypdf import PdfReader
        from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

        reader = PdfReader(io.BytesIO(data))
        numbers: dict[tuple[int, int], int] = {}
        pending: list[tuple[int, int]] = []
        pages = {}

        def ref(indirect):
            key = (indirect.idnum, indirect.generation)
            if key not in numbers:
                numbers[key] = self._reserve()
                pending.append(key)
            return self._ref(numbers[key])

        tags: dict[str, str] = {}

        def retag(name):
            # WeasyPrint names a subset after the font (ABCDEF+FandolFang), the same in every
            # render; subsets of different forms in one file need different tags (ISO 32000 9.6.4).
            tag, plus, rest = str(name)[1:].partition("+")
            if not (plus and len(tag) == 6 and tag.isalpha() and tag.isupper()):
                return name
            if tag not in tags:
                self.subsets += 1
                n, letters = self.subsets, ""
                for _ in range(6):
                    n, digit = divmod(n, 26)
                    letters = chr(65 + digit) + letters
                tags[tag] = letters
            return NameObject(f"/{tags[tag]}+{rest}")

        def renumber(value):
            # The input is dropped afterwards, so its objects are rewritten in place.
            if isinstance(value, IndirectObject):
                return ref(value)
            if isinstance(value, DictionaryObject):
                for key, item in dict.items(value):
                    dict.__setitem__(value, key, renumber(item))
                for key in ("/BaseFont", "/FontName"):
                    if isinstance(dict.get(value, key), NameObject):
                        dict.__setitem__(value, NameObject(key), retag(dict.get(value, key)))
            elif isinstance(value, ArrayObject):
                for i, item in enumerate(value):
                    list.__setitem__(value, i, renumber(item))
            return value

        for page in reader.pages:  # with the attributes inherited from the page tree
            pages[(page.indirect_reference.idnum, page.indirect_reference.generation)] = page
            self.pages.append(ref(page.indirect_reference).idnum)
        if not self.info:
            info = reader.trailer.get("/Info")
            self.info = {k: v for k, v in (info.get_object() if info else {}).items() if k != "/Title"}
            self.lang = reader.trailer["/Root"].get("/Lang")
        self._bookmarks(reader, reader.outline, ref)
        while pending:
            key = pending.pop()
            if key in pages:
                obj = pages[key]
                dict.pop(obj, "/Parent", None)
                obj = renumber(obj)
                dict.__setitem__(obj, NameObject("/Parent"), self._ref(self.pages_root))
            else:
                obj = renumber(reader.get_object(IndirectObject(key[0], key[1], reader)))
            self._write_object(numbers[key], obj)
        return len(reader.pages)

    def _bookmarks(self, reader, outline, ref) -> None:
        # WeasyPrint's bookmarks (one per <h1>: a title per copy), kept flat.
        for item in outline:
            if isinstance(item, list):
                self._bookmarks(reader, item, ref)
                continue
            array = list(item.dest_array)
            if array and hasattr(array[0], "idnum"):
                array[0] = ref(array[0])
                self.bookmarks.append((item.title, array))

    def close(self) -> int:
        """Write the page tree, the bookmarks, the catalog and the cross-reference table; returns
        the number of pages. The output file is left open."""
        from pypdf.generic import (
            ArrayObject, DictionaryObject, NameObject, NumberObject, TextStringObject,
        )

        def dictionary(**entries):
            return DictionaryObject({NameObject(f"/{k}"): v for k, v in entries.items()})

        self._write_object(self.pages_root, dictionary(
            Type=NameObject("/Pages"), Kids=ArrayObject(self._ref(n) for n in self.pages),
            Count=NumberObject(len(self.pages))))
        catalog = dictionary(Type=NameObject("/Catalog"), Pages=self._ref(self.pages_root))
        if self.bookmarks:
            root = self._reserve()
            items = [self._reserve() for _ in self.bookmarks]
            for i, (title, array) in enumerate(self.bookmarks):
                entry = dictionary(Title=TextStringObject(title), Parent=self._ref(root), Dest=ArrayObject(array))
                if i:
                    entry[NameObject("/Prev")] = self._ref(items[i - 1])
                if i + 1 < len(items):
                    entry[NameObject("/Next")] = self._ref(items[i + 1])
                self._write_object(items[i], entry)
            self._write_object(root, dictionary(Type=NameObject("/Outlines"), First=self._ref(items[0]),
                                                Last=self._ref(items[-1]), Count=NumberObject(len(items))))
            catalog[NameObject("/Outlines")] = self._ref(root)
        if self.lang is not None:
            catalog[NameObject("/Lang")] = self.lang
        catalog_number = self._reserve()
        self._write_object(catalog_number, catalog)
        info_number = self._reserve()
        info = DictionaryObject({NameObject(k): v for k, v in self.info.items()
                                 if not hasattr(v, "idnum")})
        info[NameObject("/Title")] = TextStringObject(self.title)
        self._write_object(info_number, info)
        xref = self.position
        lines = [b"xref\n0 %d\n0000000000 65535 f \n" % (len(self.offsets) + 1)]
        lines += [b"%010d 00000 n \n" % offset for offset in self.offsets]
        self._write(b"".join(lines))
        digest = hashlib.md5(b"%d %d " % (len(self.pages), xref) + self.title.encode(), usedforsecurity=False)
        file_id = digest.hexdigest().encode()
        self._write(b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n"
                    % (len(self.offsets) + 1, catalog_number, info_number, file_id, file_id, xref))
        return len(self.pages)
