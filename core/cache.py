"""Counts too slow to repeat on every page view, kept in the shared cache for a few minutes."""
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

log = logging.getLogger(__name__)


def counted(key: str, count, *, fresh: bool = False):
    """count(), through the shared cache when it is slow: (value, when counted if from the cache).

    Counting a province's subtree reads every commitment and member in it (seconds at a million
    members, docs/PERFORMANCE.md), so a count that took at least COVERAGE_CACHE_MIN_SECONDS is kept
    COVERAGE_CACHE_SECONDS and the page says when it was counted (with a link to count again:
    `fresh`). Small subtrees are counted on every request and always current. Keys hold the
    organisation's path (a move gives new keys) and the day.
    """
    ttl = settings.COVERAGE_CACHE_SECONDS
    if ttl and not fresh:
        try:
            hit = cache.get(key)
        except Exception:  # noqa: BLE001 - a cache that fails (Redis down, full disk) only costs time
            log.exception("coverage cache: could not read %s", key)
            hit = None
        if hit is not None:
            return hit
    started = time.monotonic()
    value = count()
    try:
        if ttl and time.monotonic() - started >= settings.COVERAGE_CACHE_MIN_SECONDS:
            cache.set(key, (value, timezone.now()), ttl)
        elif ttl and fresh:
            cache.delete(key)
    except Exception:  # noqa: BLE001
        log.exception("coverage cache: could not store %s", key)
    return value, None
