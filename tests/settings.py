"""Settings of the tests (pyproject.toml: DJANGO_SETTINGS_MODULE): the production settings, read from
the environment as everywhere, then what the tests need instead.

config/settings.py refuses to start with DEBUG off on the fixed development key; the tests run with
DEBUG off on a key of their own, set before the settings are read.
"""
import os

if not os.environ.get("SECRET_KEY"):
    os.environ["SECRET_KEY"] = "tests-only-secret-key-never-used-outside-the-test-suite-4f9c2a7e"

from config.settings import *  # noqa: E402,F403

# Static files from the source folders through the plain storage: nothing is collected first.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = True
# A per-process cache; the public page cache, the forms' prerendering and the coverage cache are
# off unless a test turns them on (the `settings` fixture).
CACHES = {"default": cache_from_url("locmem://tests")}  # noqa: F405
PUBLIC_PAGE_CACHE = False
PDF_PRERENDER = False
COVERAGE_CACHE_SECONDS = 0
