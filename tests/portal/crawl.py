"""A crawler for the tests: every address reachable by links from a start page, read with GET."""
import re
from collections import deque
from html import unescape
from urllib.parse import urljoin, urlsplit

from django.test import Client

HREF = re.compile(r'<a\b[^>]*\bhref="([^"#]+)', re.I)
# Leaving the site, signing out, or a page of a list already followed many times: not followed.
SKIP = re.compile(r"^(mailto:|tel:|https?://(?!testserver)|/accounts/logout/|/static/)")
# Lists repeat the same kinds of links on every page and under every filter: after this many
# addresses with the same path, further query strings on it are not followed.
PER_PATH = 4
LIMIT = 1500


def crawl(client: Client, start: str, *, on_page=None) -> dict[str, tuple[int, str]]:
    """Every address reachable from `start` by links: {url: (status, the page that linked it)} of
    those answering 4xx or 5xx. on_page(url, html) is called for every HTML page read."""
    seen, per_path, broken = {start}, {}, {}
    queue = deque([(start, "")])
    while queue and len(seen) < LIMIT:
        url, referrer = queue.popleft()
        response = client.get(url)
        if response.status_code >= 400:
            broken[url] = (response.status_code, referrer)
            continue
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        if on_page is not None:
            on_page(url, html)
        for href in HREF.findall(html):
            href = unescape(href)
            if SKIP.match(href):
                continue
            target = urljoin(url, href)
            parts = urlsplit(target)
            if parts.netloc not in ("", "testserver"):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target in seen:
                continue
            per_path[parts.path] = per_path.get(parts.path, 0) + 1
            if parts.query and per_path[parts.path] > PER_PATH:
                continue
            seen.add(target)
            queue.append((target, url))
    return broken
