"""The public noticeboard's page cache: the same HTML for every anonymous visitor, rendered once.

The three public pages (公示首页, an organisation's page, a commitment's page) read only published
text and are the same for everyone who is not logged in, so their rendered HTML is kept in Django's
cache framework (settings.CACHES, `CACHE_URL`). The cache must be shared by every process that
serves the site — every gunicorn worker and, with several app servers, every server — because
invalidation is a single shared value:

**The public generation.** One cache key holds a random token. Every stored page carries the token
of the moment it was rendered (read *before* the database is), the day it was rendered for
(the 群众评议 window and overdue items move with the date) and the cache key it answers. A stored
page is served only while all three still match; any change that can show on a public page
replaces the token (`changed()`), so every public page is rendered afresh on its next request and
the old entries simply age out (TIMEOUT). Nothing is enumerated or deleted, so no page can be
forgotten. A request that read the old data before the change committed stores it under the old
token, which is already dead. A lost or evicted token is recreated with a new random value, never
an old one. The token's key carries a stamp of the code (a hash of the project's .py and .html
files), so after a deploy no page rendered by the old templates is served. (During a
rolling deploy over several servers, a change made on an upgraded server reaches the servers not
yet upgraded only when they are.)

`changed()` is called by every service whose write can show on a public page, after the
transaction commits (transaction.on_commit): the commitment lifecycle's `transition` (submit,
approve, return, publish, revise), channels added to a publication (publication_add_channels: 网络
puts a commitment on the board), progress entries, stamped scans shown on the noticeboard (chosen,
changed, withdrawn, or uploaded as shown), assessments and result releases, campaign
years (which one is current, the rating window), organisations (name, short name, supervision
phone, order, revocation, moves, creation, the organisation import) and members (name, branch,
transfer, the roster import). Ballots, tallies and leader comments do not: the public sees none of
them before the release, and they are closed after it.

One generation for everything, rather than one per page: a change re-renders every public page
once, on its next visit (≈ 10–20 ms each), which is cheap next to the bookkeeping of which pages
show which organisation's, member's or campaign's data, and cannot miss a page. The noticeboard's
per-campaign summary (selectors.noticeboard_summary, the one aggregate over the whole campaign) is
kept the same way.

**Who gets a cached page.** Only anonymous GET requests without a session cookie: a logged-in user
has one, and so has a visitor with a pending message (the messages live in the session), so neither
is ever served or stored. Searches (`?q=`) are not stored (any text would make a new entry); the
noticeboard's per-campaign summary behind them is (selectors.noticeboard_summary).

**Per-visitor parts.** The organisation page and the noticeboard hold no form with a CSRF token.
The commitment page does while its 群众评议 window is open: the stored HTML then has a placeholder
where the rating section goes, and that small section is rendered for each request with the
visitor's own CSRF token and whether this visitor has already rated (one query, only with a rater
cookie). A token is therefore never stored, and a page with one is sent `Cache-Control: private`.
The other pages are sent `Cache-Control: public, max-age=PUBLIC_PAGE_MAX_AGE` (0 by default: browsers
and nginx revalidate each time) with an ETag, and a matching If-None-Match gets a 304.

A cache that fails (a full disk, Redis down) never breaks a page: the page is rendered uncached.
With settings.PUBLIC_PAGE_CACHE off (the tests' default) nothing is read or stored.
"""
import functools
import hashlib
import logging
import random
import secrets
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends import filebased
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotModified
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers

log = logging.getLogger(__name__)

# The generation key is per code version (see _code_stamp): a deploy never serves pages rendered
# by the previous templates.
GENERATION_KEY = "public:generation"
CODE_FOLDERS = ("templates", "commitments", "evaluations", "orgs", "reviews", "config")
KEY_PREFIX = "public:page:"
# Stored pages outlive no generation anyway; the timeout only bounds how long dead ones linger.
TIMEOUT = 6 * 3600
# The placeholder for a per-request fragment (the rating form) inside stored HTML.
SLOT = "<!--public-cache:slot-->"


@functools.cache
def _code_stamp() -> str:
    """The code's version as a hash of the project's .py and .html files: the same in every worker
    and on every server of one deploy (tens of milliseconds, once per process)."""
    digest = hashlib.sha1()
    base = Path(settings.BASE_DIR)
    for folder in CODE_FOLDERS:
        for path in sorted((base / folder).rglob("*")):
            if path.suffix in (".py", ".html"):
                digest.update(str(path.relative_to(base)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _generation_key() -> str:
    return f"{GENERATION_KEY}:{_code_stamp()}"


def enabled() -> bool:
    return getattr(settings, "PUBLIC_PAGE_CACHE", False)


def changed() -> None:
    """A write that can show on a public page: every stored page is stale once it commits."""
    if enabled():
        transaction.on_commit(_new_generation)


def _new_generation() -> None:
    try:
        cache.set(_generation_key(), secrets.token_hex(8), None)
    except Exception:  # noqa: BLE001 - a cache failure must not break the write that committed
        log.exception("public page cache: could not replace the generation")


def _generation(found: dict) -> str:
    key = _generation_key()
    gen = found.get(key)
    if gen is None:
        cache.add(key, secrets.token_hex(8), None)
        gen = cache.get(key)
    return gen


def cacheable(request) -> bool:
    """Anonymous GET (or HEAD) without a session: logged-in users and pending messages have one."""
    return (enabled() and request.method in ("GET", "HEAD")
            and settings.SESSION_COOKIE_NAME not in request.COOKIES)


def page_key(*parts) -> str:
    raw = "|".join(str(p) for p in parts)
    return KEY_PREFIX + hashlib.sha1(raw.encode()).hexdigest()


class Entry:
    """A looked-up page: `html` (None on a miss) and what is needed to store a fresh one."""

    def __init__(self, key: str, gen: str | None, day: str, value: dict | None):
        self.key, self.gen, self.day, self.value = key, gen, day, value

    @property
    def hit(self) -> bool:
        return self.value is not None

    def store(self, html: str, **extra) -> None:
        if self.gen is None:
            return
        try:
            cache.set(self.key, {"gen": self.gen, "day": self.day, "html": html, **extra}, TIMEOUT)
        except Exception:  # noqa: BLE001
            log.exception("public page cache: could not store %s", self.key)

    @property
    def etag(self) -> str:
        return '"%s"' % hashlib.sha1(f"{self.key}|{self.gen}|{self.day}".encode()).hexdigest()[:20]


def lookup(key: str) -> Entry:
    """The stored page for `key` if it is of the current generation and day (one cache round trip)."""
    day = timezone.localdate().isoformat()
    try:
        found = cache.get_many([_generation_key(), key])
        gen = _generation(found)
    except Exception:  # noqa: BLE001
        log.exception("public page cache: lookup failed")
        return Entry(key, None, day, None)
    value = found.get(key)
    if not (isinstance(value, dict) and value.get("gen") == gen and value.get("day") == day):
        value = None
    return Entry(key, gen, day, value)


def get_value(key: str, compute, *, timeout: int = TIMEOUT):
    """A computed value (e.g. the noticeboard's summary) kept for the current generation and day."""
    if not enabled():
        return compute()
    entry = lookup(KEY_PREFIX + "value:" + key)
    if entry.hit:
        return entry.value["data"]
    data = compute()
    if entry.gen is not None:
        try:
            cache.set(entry.key, {"gen": entry.gen, "day": entry.day, "data": data}, timeout)
        except Exception:  # noqa: BLE001
            log.exception("public page cache: could not store %s", entry.key)
    return data


def respond(request, entry: Entry | None, html: str, *, shared: bool = True) -> HttpResponse:
    """The response for a public page: `public` with an ETag (304 when it matches) for a page that is
    the same for every anonymous visitor; `private` for the rest (a visitor's own CSRF token,
    logged-in users, uncached searches)."""
    if entry is None or entry.gen is None or not shared:
        response = HttpResponse(html)
        patch_cache_control(response, private=True, max_age=0)
        return response
    etag = entry.etag
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(html)
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=getattr(settings, "PUBLIC_PAGE_MAX_AGE", 0))
    # A logged-in user (session cookie) gets a different page: shared caches must keep them apart.
    patch_vary_headers(response, ["Cookie"])
    return response


class FileBasedCache(filebased.FileBasedCache):
    """Django's file cache (the default backend, settings.cache_from_url), except that a write lists
    the folder to cull it once in CULL_EVERY writes instead of every time: with thousands of pages
    one listing costs tens of milliseconds. The folder may overshoot MAX_ENTRIES by a few dozen."""

    CULL_EVERY = 50

    def _cull(self):
        if random.randrange(self.CULL_EVERY) == 0:
            super()._cull()
