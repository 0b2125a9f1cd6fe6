"""Printable forms (四（三）公开亮诺): 附件1 基层党组织公开承诺书 and 附件2 党员公开承诺书.

The approved text is filled into the annex forms of the guidance and printed in triplicate
(附件1: 本组织存 / 上一级党组织存 / 公示; 附件2: 本人存 / 党组织存 / 公示). Django templates (user
text autoescaped) are rendered by WeasyPrint with a fetcher that reads only the project's own static
files and data: URLs, never the file system or the network, and with the vendored fonts of
static/fonts.

Each copy goes on one A4 sheet when its content allows (docs/FORMS.md): one copy of each form is
laid out first to find the roomiest density at which it fits (fit_forms), then the three copies
are laid out at that density, the rest of the sheet filled, with a stylesheet generated here that
gives each copy its own page numbers (第 n 页 共 m 页), its version footer and, when it runs on,
continuation heads (lay_out).

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
import dataclasses
import functools
import hashlib
import io
import json
import math
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
from django.utils import timezone

from commitments.models import Decision, ReviewDecision
from core.templatetags.cn import cn_date, cn_month

from .lifecycle import is_printable, printable_q
from .models import Commitment, CommitmentStatus, CommitmentVersion

# Bump when a template, the stylesheet or a font changes: cached PDFs are then rendered again.
TEMPLATE_REVISION = "2026.2"
CACHE_DIR_NAME = "forms"
STATIC_SCHEME = "static:"

ANNEX1, ANNEX2 = "annex1", "annex2"
KINDS = {
    # kind: (annex label, title, the three copies in the order of the annex's foot note)
    ANNEX1: ("附件1", "基层党组织公开承诺书", ("本组织存", "上一级党组织存", "公示")),
    ANNEX2: ("附件2", "党员公开承诺书", ("本人存", "党组织存", "公示")),
}
PUBLIC_COPY = "公示"


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
    """WeasyPrint, with the safe fetcher and the shared fonts, for HTML that needs no fitting."""
    from weasyprint import HTML

    with _render_lock:
        # The base URL has a scheme that cannot resolve relative references, so a relative
        # src or href reaches the fetcher as it was written and is refused.
        document = HTML(string=html, base_url=STATIC_SCHEME, url_fetcher=safe_fetcher())
        return document.write_pdf(font_config=_font_config())


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
    return settings.SITE_URL.rstrip("/") + reverse("portal:public_commitment", args=[commitment_id])


def printable_version(commitment: Commitment, latest: CommitmentVersion | None) -> CommitmentVersion | None:
    """The version the forms print, or None.

    Approved: the version just approved (it is about to be published; `public_version` may still
    be an earlier one). Published: the public version. Reopened for revision (draft, submitted,
    returned): the public version, which stays on the noticeboard until the revision is published.
    Never published and not approved: nothing to print.
    """
    if commitment.status == CommitmentStatus.APPROVED:
        return latest
    if not is_printable(commitment):
        return None
    return commitment.public_version if commitment.public_version_id is not None else latest


def _may_print_q() -> Q:
    return printable_q()


def _copies(kind: str) -> list[dict]:
    return [{"label": label, "public": label == PUBLIC_COPY} for label in KINDS[kind][2]]


def _owner_fields(commitment: Commitment) -> dict:
    if commitment.member_id is None:
        org = commitment.organisation
        return {"org_name": org.name, "phone": org.supervision_phone}
    member = commitment.member
    return {
        "name": member.name, "gender": member.get_gender_display(), "birth": cn_month(member.birth_month),
        "post": member.post, "joined": member.joined_party_display, "branch": member.branch.name,
        "phone": member.branch.supervision_phone,
    }


def _form(commitment: Commitment, version: CommitmentVersion, decision) -> dict:
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
        # The owner committed when this version was submitted: the date beside （签名）/（盖章）,
        # always before the 审定 date beside it (a publication date never stands here).
        "signed_on": cn_date(version.submitted_at),
        "public_url": public_url(commitment.pk),
        # Which paper is which: the version, its approval, the day it was printed (part of the
        # cache key, so a reprint on another day says so).
        "footer": f"第{version.number}版 · 审定于{cn_date(decision.decided_at)} · 打印于{cn_date(timezone.localdate())}",
    }


def forms_for(commitments: list[Commitment]) -> list[dict]:
    """The printable forms of `commitments` (in their order), skipping any without an approved
    version. Two queries whatever the number: latest versions, decisions.
    The commitments need organisation, member, member__branch and public_version selected."""
    need_latest = [c.pk for c in commitments if c.status == CommitmentStatus.APPROVED or c.public_version_id is None]
    latest: dict[int, CommitmentVersion] = {}
    if need_latest:
        for v in CommitmentVersion.objects.filter(commitment_id__in=need_latest).order_by("commitment_id", "number"):
            latest[v.commitment_id] = v
    chosen = {c.pk: printable_version(c, latest.get(c.pk)) for c in commitments}
    version_ids = [v.pk for v in chosen.values() if v is not None]
    decisions = {}
    if version_ids:
        # The latest approval of a version gives the 审定意见 and its date.
        for d in (ReviewDecision.objects.filter(version_id__in=version_ids, decision=Decision.APPROVE)
                  .only("id", "version_id", "opinion", "decided_at").order_by("decided_at", "id")):
            decisions[d.version_id] = d
    forms = []
    for c in commitments:
        version = chosen[c.pk]
        if version is None or version.pk not in decisions:
            continue
        forms.append(_form(c, version, decisions[version.pk]))
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


# --- layout: one sheet per copy where the content allows ------------------------------------------

DOCUMENT_TEMPLATE = "commitments/pdf/forms.html"

# The densities of forms-pdf.css, roomiest first: body 14, 13, 12, 12 (时限/责任人 run on), 11 and
# 10.5 pt (五号, the smallest a form may use). A copy gets the roomiest density that puts it on one
# sheet; a copy that fits none runs onto continuation pages at RUN_ON_DENSITY (小四, runs on).
DENSITIES = ("d0", "d1", "d2", "d3", "d4", "d5")
RUN_ON_DENSITY = 3
# Page margins (mm: top, right, bottom, left), given to WeasyPrint by the generated stylesheet and
# used here to measure what is left of a sheet. The top and bottom margins hold the continuation
# head and the page footer.
MARGINS_MM = (14, 20, 13, 25)
PAGE_HEIGHT_MM = 297
PX_PER_MM = 96 / 25.4
# Left unfilled at the foot of a sheet, so rounding can never push the note onto a second page.
FILL_SAFETY_MM = 1.0
OPINION_SHARE, OPINION_FILL_MAX_MM = 0.3, 16
LAST_ROW_PADDING_MM = 2.5  # the last content row's bottom padding (forms-pdf.css, tr.r-last)


@dataclasses.dataclass(frozen=True)
class Fit:
    """How a form is laid out: its density, the pages of one copy, the filler of a one-sheet copy."""

    density: int
    pages: int
    fill_mm: float


def _visual_width(text: str) -> float:
    return sum(0.5 if ord(ch) < 0x2E80 or 0xFF61 <= ord(ch) <= 0xFFDC else 1.0 for ch in text)


def _lines(text: str, per_line: float, *, first: float = 0, hanging: float = 0) -> int:
    """Lines a paragraph takes: `first` characters of label on its first line, later lines
    `hanging` characters narrower (a hanging indent)."""
    total = 0
    for n, piece in enumerate((text or "").split("\n")):
        width = _visual_width(piece) + (first if n == 0 else 0)
        total += 1 + max(0, math.ceil((width - per_line) / max(per_line - hanging, 1)))
    return total


# Per density: body size (pt), line height, label size (pt); mirrors forms-pdf.css.
_METRICS = ((14, 1.5, 14), (13, 1.45, 14), (12, 1.45, 13), (12, 1.4, 13), (11, 1.35, 12), (10.5, 1.3, 12))
_PT_MM = 25.4 / 72


def estimate_density(form: dict) -> int | None:
    """The roomiest density at which a copy should fit one sheet by a rough count of lines, or
    None when even the densest clearly will not (the measurement decides; this only saves passes).
    Meant to err on the roomy side: a wrong guess costs a second measuring pass, never a density
    smaller than needed."""
    available = PAGE_HEIGHT_MM - MARGINS_MM[0] - MARGINS_MM[2]
    annex1 = form["kind"] == ANNEX1
    text_mm = 165 - (30 if annex1 else 26) - 7
    height = 0.0
    for density, (pt, leading, _) in enumerate(_METRICS):
        per_line = text_mm / (pt * _PT_MM)
        line = pt * leading * _PT_MM
        lines = _lines(form.get("goal", ""), per_line, first=5) + (1 if form.get("oral_note") else 0)
        for item in form["items"]:
            tails = [7 + _visual_width(item["deadline"])]
            if annex1:
                tails.append(6 + _visual_width(item.get("responsible", "")))
            measures = _lines(item["measures"], per_line, first=5 + 2, hanging=2)
            if density >= 3:
                # 时限 and 责任人 follow the measures on their last line, or wrap.
                tail = sum(tails) + len(tails)
                measures = _lines(item["measures"] + "x" * math.ceil(tail), per_line, first=7, hanging=2)
            else:
                measures += len(tails)
            lines += _lines(item["content"], per_line, first=2 + 5, hanging=2) + measures
        opinion = max(_lines(form.get("opinion", ""), per_line) * line, 8)
        fixed = 27 + (10.5 if annex1 else 31.5) + 3.7 + 1.2 * len(form["items"]) + 2.5
        height = fixed + lines * line + 2 * (2 * line + 2) + opinion + 5 + 8
        if height <= available:
            return density
    return None if height > available * 1.15 else len(DENSITIES) - 1


def _css_string(text: str) -> str:
    """A CSS string literal of `text`, every character outside a safe set escaped."""
    safe = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ·-_.:/")
    return '"' + "".join(ch if ch in safe or ord(ch) > 0x2E7F else f"\\{ord(ch):x} " for ch in text) + '"'


def _sheet_id(index: int, copy: int) -> str:
    return f"f{index}c{copy}"


def _layout_css(forms: list[dict], fits: list[Fit] | None) -> str:
    """The stylesheet generated for one document: margins; with `fits`, each copy's named page
    (its own page numbers, 第 n 页 共 m 页, and its version footer), the top boxes of its first
    page emptied (the full head is in the flow there) and each form's filler."""
    top, right, bottom, left = MARGINS_MM
    rules = [f"@page {{ margin: {top}mm {right}mm {bottom}mm {left}mm; }}"]
    if forms and fits is not None:
        # The document starts on the first copy's named page (else WeasyPrint opens with a blank one).
        rules.append(f"html, body {{ page: {_sheet_id(forms[0]['index'], 0)}; }}")
    for form in forms if fits is not None else ():
        fit = fits[form["index"]]
        sheets = [_sheet_id(form["index"], c) for c in range(len(form["copies"]))]
        footer = _css_string(form.get("footer", ""))
        for sheet in sheets:
            rules.append(
                f"#{sheet} {{ page: {sheet}; }}\n"
                f"@page {sheet} {{ @bottom-left {{ content: {footer}; }} "
                f"@bottom-right {{ content: \"第 \" counter(page) \" 页　共 {fit.pages} 页\"; }} }}\n"
                f"@page {sheet}:nth(1 of {sheet}) {{ counter-reset: page 1; @top-left {{ content: none; }} "
                f"@top-center {{ content: none; }} @top-right {{ content: none; }} }}")
        if fit.fill_mm > 0:
            # The rest of the sheet: some to the 审定意见 (room for the seal), the rest to the items.
            opinion = min(fit.fill_mm * OPINION_SHARE, OPINION_FILL_MAX_MM)
            rules.append(", ".join(f"#{sheet} .fill" for sheet in sheets)
                         + f" {{ height: {fit.fill_mm - opinion:.2f}mm; }}")
            rules.append(", ".join(f"#{sheet} .opinion-fill" for sheet in sheets) + f" {{ height: {opinion:.2f}mm; }}")
    return "\n".join(rules)


def _render_document(forms: list[dict], *, title: str, fits: list[Fit] | None):
    """Lay `forms` out in one WeasyPrint pass; a weasyprint Document."""
    from weasyprint import CSS, HTML

    html = render_to_string(DOCUMENT_TEMPLATE, {"forms": forms, "document_title": title})
    with _render_lock:
        stylesheet = CSS(string=_layout_css(forms, fits), font_config=_font_config())
        return HTML(string=html, base_url=STATIC_SCHEME, url_fetcher=safe_fetcher()).render(
            stylesheets=[stylesheet], font_config=_font_config())


def _anchor_pages(document) -> dict[str, tuple[int, float, float]]:
    """Every id of the document: (page number, top, bottom in px) of its box's first fragment."""
    found = {}
    for number, page in enumerate(document.pages):
        for name, box in page.anchors.items():  # box: (x1, y1, x2, y2)
            found.setdefault(name, (number, box[1], box[3]))
    return found


def _measure(forms: list[dict]) -> list[tuple[int, float]]:
    """One copy of each form (at its density), laid out in one pass: (pages, mm left at the foot
    of its last sheet) per form."""
    document = _render_document([{**form, "copies": form["copies"][:1], "qr": ""} for form in forms],
                                title="", fits=None)
    anchors = _anchor_pages(document)
    bottom = (PAGE_HEIGHT_MM - MARGINS_MM[2]) * PX_PER_MM
    result = []
    for form in forms:
        sheet = _sheet_id(form["index"], 0)
        first, last, end_y = anchors[sheet][0], *anchors[f"{sheet}-end"][:2]
        # The filler grows the last content row: first up to the height that row already has (the
        # vertical label beside a short commitment can make it taller than its text), then by
        # what is left of the sheet below the foot note.
        _, _, row_bottom = anchors[f"{sheet}-last"]
        _, sign_end, _ = anchors[f"{sheet}-signend"]
        slack = (bottom - end_y) + max(0.0, row_bottom - sign_end - LAST_ROW_PADDING_MM * PX_PER_MM)
        result.append((last - first + 1, slack / PX_PER_MM))
    return result


def fit_forms(forms: list[dict]) -> list[Fit]:
    """The density of each form (see DENSITIES), found by laying one copy out: the estimate first,
    then denser until a copy fits one sheet; past the densest, RUN_ON_DENSITY on several sheets.
    Forms still to be placed are measured together, one pass per round (one or two rounds as a
    rule)."""
    fits: list[Fit | None] = [None] * len(forms)
    density, run_on = {}, set()
    for form in forms:
        guess = estimate_density(form)
        if guess is None:
            run_on.add(form["index"])
        density[form["index"]] = RUN_ON_DENSITY if guess is None else guess
    todo = list(forms)
    while todo:
        laid = [{**form, "density": DENSITIES[density[form["index"]]]} for form in todo]
        after = []
        for form, (pages, left_mm) in zip(todo, _measure(laid)):
            i = form["index"]
            if pages == 1 or i in run_on:
                fill = max(0.0, left_mm - FILL_SAFETY_MM) if pages == 1 else 0.0
                fits[i] = Fit(density[i], pages, fill)
            else:
                if density[i] + 1 < len(DENSITIES):
                    density[i] += 1
                else:
                    density[i] = RUN_ON_DENSITY
                    run_on.add(i)
                after.append(form)
        todo = after
    return fits


def _document_context(forms: list[dict], *, title: str) -> dict:
    """The forms as the template lays them out: numbered, each copy with its sheet id (the
    section's id and the name of its pages), with their QR codes."""
    rendered = []
    for index, form in enumerate(forms):
        qr = qr_data_url(form["public_url"]) if form.get("public_url") else ""
        copies = [{**copy, "sheet": _sheet_id(index, c)} for c, copy in enumerate(form["copies"])]
        rendered.append({**form, "index": index, "copies": copies, "template": f"commitments/pdf/{form['kind']}.html",
                         "qr": qr})
    return {"forms": rendered, "document_title": title}


def lay_out(forms: list[dict], *, title: str):
    """Forms, each in triplicate, fitted and laid out in one pass: (Document, each form's first
    page index and one past its last)."""
    context = _document_context(forms, title=title)
    laid = context["forms"]
    fits = fit_forms(laid)
    laid = [{**form, "density": DENSITIES[fit.density]} for form, fit in zip(laid, fits)]
    document = _render_document(laid, title=title, fits=fits)
    anchors = _anchor_pages(document)
    bounds, start = [], 0
    for form, fit in zip(laid, fits):
        end = start + fit.pages * len(form["copies"])
        # Every copy starts where its measured pages say; a copy laid out otherwise is a bug here.
        for c in range(len(form["copies"])):
            expected = start + c * fit.pages
            if anchors[_sheet_id(form["index"], c)][0] != expected:
                raise RuntimeError(f"form {form['index']} copy {c}: laid out unlike its measurement")
        bounds.append((start, end))
        start = end
    return document, bounds


def forms_document(forms: list[dict], *, title: str) -> bytes:
    """Forms in one PDF from one layout pass (no cache): what a batch made of cached forms equals."""
    document, _ = lay_out(forms, title=title)
    with _render_lock:
        return document.write_pdf()


# --- the cache ---------------------------------------------------------------------------------------

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
    # Older renders of the same version and decision (before a record changed, or printed on
    # another day) are dead now.
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
    data = render_forms([form])[0]
    _store(form, path, data)
    return data, False


# --- batches: the cached forms, concatenated -------------------------------------------------------

# Missing forms laid out in one WeasyPrint pass, then written one PDF per form: less CPU a form than
# a pass each (measured with 5, 10 and 20: 10 was best), and the memory of one chunk's layout
# (WeasyPrint keeps every page of a document until it is written).
RENDER_CHUNK = 10


def render_forms(forms: list[dict]) -> list[bytes]:
    """Several forms fitted and laid out in one pass and written as one PDF per form, each the same
    as the form laid out alone (a form's layout depends on nothing but itself), its title the
    form's file name."""
    document, bounds = lay_out(forms, title="")
    result = []
    with _render_lock:
        for form, (start, end) in zip(forms, bounds):
            document.metadata.title = filename_for(form)[:-4]
            result.append(document.copy(document.pages[start:end]).write_pdf())
    return result


def render_missing(forms: list[dict], *, on_progress=None) -> int:
    """Put every form of `forms` into the cache, rendering only those not there yet, RENDER_CHUNK
    at a time in one pass; on_progress(done) after each chunk (forms found in the cache count as
    done). Returns how many forms were rendered. Memory holds one chunk's layout at a time."""
    missing = [(i, form) for i, form in enumerate(forms) if not _cache_path(form).exists()]
    done_before = 0  # forms before the current chunk's last one, all in the cache by then
    for start in range(0, len(missing), RENDER_CHUNK):
        chunk = [form for _, form in missing[start:start + RENDER_CHUNK]]
        for form, data in zip(chunk, render_forms(chunk)):
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
        from pypdf.generic import ArrayObject, DictionaryObject, NameObject, NumberObject, TextStringObject

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
