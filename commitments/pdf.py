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
"""
from __future__ import annotations

import base64
import functools
import hashlib
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
        owner = Q(organisation__path__startswith=org.path) | Q(member__branch__path__startswith=org.path)
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


def form_pdf(form: dict) -> tuple[bytes, bool]:
    """One form in triplicate, from the cache when it holds exactly this text; (bytes, from_cache)."""
    prefix = _cache_prefix(form)
    path = cache_dir() / f"{prefix}{_digest([form])}.pdf"
    try:
        return path.read_bytes(), True
    except FileNotFoundError:
        pass
    data = render_pdf(DOCUMENT_TEMPLATE, _document_context([form], title=filename_for(form)[:-4]))
    _write_atomic(path, data)
    # Older renders of the same version and decision (before a record changed) are dead now.
    for stale in path.parent.glob(f"{prefix}*.pdf"):
        if stale != path:
            stale.unlink(missing_ok=True)
    return data, False


def forms_pdf(forms: list[dict], *, title: str) -> bytes:
    """Several forms, each in triplicate, in one PDF rendered in one pass."""
    return render_pdf(DOCUMENT_TEMPLATE, _document_context(forms, title=title))
