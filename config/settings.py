"""Settings for 公开承诺管理系统.

One module, read from the environment with safe defaults: a laptop gets SQLite and DEBUG off
unless asked; production sets DATABASE_URL (PostgreSQL), SECRET_KEY and ALLOWED_HOSTS.
"""
import hashlib
import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [part.strip() for part in value.split(",") if part.strip()]


def database_from_url(url: str) -> dict:
    """Turn `sqlite:///path` or `postgres://user:pass@host:port/name?opt=v` into a DATABASES entry."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute/path.db
        path = unquote(parts.path[1:]) if parts.path.startswith("/") else unquote(parts.path)
        name = path if os.path.isabs(path) else str(BASE_DIR / path)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": name,
            # WAL lets readers and the single writer work at once on a laptop.
            "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"},
        }
    if scheme in {"postgres", "postgresql", "pgsql"}:
        options = dict(parse_qsl(parts.query))
        # No JIT: the dashboards' aggregates cross the planner's JIT cost line and then spend more
        # time compiling than running (docs/PERFORMANCE.md). `?options=` in the URL overrides it.
        options.setdefault("options", "-c jit=off")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": int(options.pop("conn_max_age", 60)),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    raise ImproperlyConfigured(f"DATABASE_URL scheme {scheme!r} is not supported (use sqlite or postgres)")


DEBUG = env_bool("DEBUG", False)
DEV_SECRET_KEY = "insecure-dev-key-change-me-in-production-0123456789abcdef"
SECRET_KEY = env_str("SECRET_KEY") or DEV_SECRET_KEY
# The fixed key is only acceptable on a developer's laptop (DEBUG=1, as `make run` sets): anyone
# could forge sessions and password-reset links signed with it. Anything else with DEBUG off
# (production, a test server, a forgotten HTTPS=1) refuses to start without a key. The tests set
# their own key (tests/settings.py).
if SECRET_KEY == DEV_SECRET_KEY and not DEBUG:
    raise ImproperlyConfigured(
        "未设置 SECRET_KEY：关闭 DEBUG 运行时必须在环境中设置 SECRET_KEY（至少50个字符的随机字符串，如 "
        "python3 -c \"import secrets; print(secrets.token_urlsafe(50))\"）；本机试用请设置 DEBUG=1（make run 已设置）。 "
        "SECRET_KEY is not set: with DEBUG off the system refuses to start on the fixed development key; "
        "set SECRET_KEY to 50+ random characters, or DEBUG=1 on a developer's laptop.")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# --- Production hardening (网络安全等级保护二级) ---------------------------------------------
# Production is DEBUG off and HTTPS=1 (the site is served over TLS, directly or by a proxy).
# There: a real SECRET_KEY is required, plain http is redirected to https, HSTS is sent and the
# cookies are Secure; `manage.py check --deploy --fail-level WARNING` passes. A laptop (`make
# run`, DEBUG=1, http on 127.0.0.1) and the tests (HTTPS unset) get none of this.
HTTPS = env_bool("HTTPS", False)
PRODUCTION = not DEBUG and HTTPS
if PRODUCTION:
    _key = env_str("SECRET_KEY")
    if len(_key) < 50 or len(set(_key)) < 5 or _key.startswith(("django-insecure", "insecure-")):
        raise ImproperlyConfigured("生产环境（HTTPS=1）必须设置 SECRET_KEY：至少50个字符的随机字符串")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
# One year by default; an operator trying HTTPS out first may set e.g. SECURE_HSTS_SECONDS=3600.
SECURE_HSTS_SECONDS = int(env_str("SECURE_HSTS_SECONDS", str(31536000 if PRODUCTION else 0)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
# `preload` only makes the domain eligible for the browsers' preload list (submitted by hand);
# SECURE_HSTS_PRELOAD=0 leaves it out, and the deploy check's warning about it is then silenced.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", PRODUCTION)
SILENCED_SYSTEM_CHECKS = ["security.W021"] if PRODUCTION and not SECURE_HSTS_PRELOAD else []
# Behind nginx or another TLS-terminating proxy that sets X-Forwarded-Proto (and strips it
# from clients): BEHIND_PROXY=1 lets Django see the request as https.
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Content-Security-Policy (django.middleware.csp): no inline script, style or handler anywhere;
# behaviour lives in static/js, styles in static/css. ECharts styles through CSSOM, which CSP allows.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "core",  # no models: template filters (cn) and the helpers every app shares
    "orgs",
    "commitments",
    "reviews",
    "evaluations",
    "portal",  # the top layer: pages that gather every app (docs/ARCHITECTURE.md)
    "django_tasks_db",  # background jobs: the ORM task backend and manage.py db_worker
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Static files straight from gunicorn, hashed names with a far-future cache header.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Cache-Control: private, no-store on every response to a logged-in user.
    "core.middleware.PrivateCacheMiddleware",
    # Every page needs a login unless its view is marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Session timeouts, ended sessions of disabled accounts, forced password change.
    "orgs.middleware.AccountSecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "orgs.middleware.AuditContextMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "orgs.context_processors.navigation",
            ],
            "builtins": ["core.templatetags.cn"],
        },
    },
]

DATABASES = {"default": database_from_url(env_str("DATABASE_URL", "sqlite:///db.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # Length and character classes (PASSWORD_MIN_LENGTH, PASSWORD_MIN_CLASSES), then no reuse.
    {"NAME": "orgs.password_validation.ComplexityValidator"},
    {"NAME": "orgs.password_validation.HistoryValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = env_list("PASSWORD_HASHERS", [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
])

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))

# --- Production serving (gunicorn -c config/gunicorn.conf.py config.wsgi; config/deploy/) ---
# In production `manage.py collectstatic` writes content-hashed, compressed copies to STATIC_ROOT
# and WhiteNoise serves them with a far-future cache header ({% static %} names the hashed file).
# With DEBUG (and under the tests: tests/settings.py) the plain storage and the source folders serve
# them instead, so nothing has to be collected first. PDFs read static files from the source folders either way
# (commitments/pdf.py: static_file).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG
                    else "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = DEBUG
# The CJK fonts (28 MB, read only by the PDF renderer) and source maps are copied, not compressed:
# brotli on them would make collectstatic take minutes.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = ["jpg", "jpeg", "png", "gif", "webp", "ico", "zip", "gz", "tgz", "bz2", "xz",
                                       "br", "woff", "woff2", "otf", "ttf", "map", "pdf"]

# --- Cache (the public noticeboard's pages: commitments/public_cache.py) ---------------------
# CACHE_URL names the backend; it must be shared by every gunicorn worker and every app server,
# since one shared value invalidates the public pages:
#   file:///var/cache/commitments/pages  one machine (the default: XDG_CACHE_HOME/pages, which the
#                                        systemd unit makes writable, else var/cache in the checkout)
#   db://public_cache                    the database (run `manage.py createcachetable` once)
#   redis://127.0.0.1:6379/1             Redis (several app servers)
#   locmem://  dummy://                  one process only / no caching
# `?max_entries=N&timeout=S` set OPTIONS.MAX_ENTRIES and TIMEOUT. The tests (tests/settings.py) use
# per-process locmem, with the public page cache off unless a test turns it on (PUBLIC_PAGE_CACHE).
def cache_from_url(url: str) -> dict:
    parts = urlsplit(url)
    scheme, options = parts.scheme.lower(), dict(parse_qsl(parts.query))
    if scheme == "file":
        path = unquote(parts.netloc + parts.path)
        # Django's file cache, culled less often (commitments/public_cache.py).
        backend, location = "commitments.public_cache.FileBasedCache", (
            path if os.path.isabs(path) else str(BASE_DIR / path))
    elif scheme in {"db", "database"}:
        backend, location = "django.core.cache.backends.db.DatabaseCache", parts.netloc or parts.path.strip("/")
    elif scheme in {"redis", "rediss"}:
        backend, location = "django.core.cache.backends.redis.RedisCache", url.split("?", 1)[0]
    elif scheme in {"memcached", "pymemcache"}:
        backend, location = "django.core.cache.backends.memcached.PyMemcacheCache", parts.netloc
    elif scheme == "locmem":
        backend, location = "django.core.cache.backends.locmem.LocMemCache", parts.netloc
    elif scheme == "dummy":
        backend, location = "django.core.cache.backends.dummy.DummyCache", ""
    else:
        raise ImproperlyConfigured(f"CACHE_URL scheme {scheme!r} is not supported (file, db, redis, memcached, "
                                   "locmem or dummy)")
    # Two sites (or a site and its benchmark) sharing a cache never read each other's pages.
    database = DATABASES["default"]
    prefix = hashlib.sha1(f"{database['ENGINE']}|{database.get('HOST', '')}|{database['NAME']}".encode()).hexdigest()
    cache = {"BACKEND": backend, "LOCATION": location, "KEY_PREFIX": prefix[:10]}
    if "timeout" in options:
        cache["TIMEOUT"] = int(options["timeout"])
    if "max_entries" in options:
        cache["OPTIONS"] = {"MAX_ENTRIES": int(options["max_entries"])}
    elif scheme == "file":
        # One file per page (and per noticeboard summary): room for a province's visited pages.
        cache["OPTIONS"] = {"MAX_ENTRIES": 20000}
    return cache


_default_cache_dir = Path(env_str("XDG_CACHE_HOME", str(BASE_DIR / "var" / "cache"))) / "pages"
CACHES = {"default": cache_from_url(env_str("CACHE_URL", f"file://{_default_cache_dir}"))}
# The public pages are cached; browsers and nginx
# may keep them PUBLIC_PAGE_MAX_AGE seconds without asking (0: they revalidate with the ETag).
PUBLIC_PAGE_CACHE = env_bool("PUBLIC_PAGE_CACHE", True)
PUBLIC_PAGE_MAX_AGE = int(env_str("PUBLIC_PAGE_MAX_AGE", "0"))

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and env_bool("HTTPS", False))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Pages of long lists.
PAGE_SIZE = 50

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # One line per record on stdout (journald or the container log keeps it), with time and level.
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout",
                             "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")
# Notices go to the console unless EMAIL_BACKEND names SMTP (then EMAIL_HOST, EMAIL_PORT, ...).
_email_backend = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
MAILERS = {"default": {"BACKEND": _email_backend, "OPTIONS": {
    "host": env_str("EMAIL_HOST", "localhost"), "port": int(env_str("EMAIL_PORT", "25")),
    "username": env_str("EMAIL_HOST_USER"), "password": env_str("EMAIL_HOST_PASSWORD"),
    "use_tls": env_bool("EMAIL_USE_TLS", False),
} if _email_backend.endswith("smtp.EmailBackend") else {}}}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "公开承诺管理系统 <noreply@localhost>")
# 意见箱: suggestions one client may drop per hour (a whole office behind one NAT address shares it).
SUGGESTION_BOX_LIMIT = int(env_str("SUGGESTION_BOX_LIMIT", "5"))
# 践诺 evidence (commitments/services/progress.py): JPEG, PNG or PDF, checked by content.
EVIDENCE_MAX_BYTES = int(env_str("EVIDENCE_MAX_BYTES", str(5 * 1024 * 1024)))
EVIDENCE_MAX_FILES = int(env_str("EVIDENCE_MAX_FILES", "6"))
EVIDENCE_MAX_PAGES = int(env_str("EVIDENCE_MAX_PAGES", "100"))
# 亮诺: scans or photos of the signed and stamped paper forms (commitments/services/stamped.py),
# checked like evidence. A form is a page or two a copy; a scan of all three copies stays under 10.
STAMPED_SCAN_MAX_BYTES = int(env_str("STAMPED_SCAN_MAX_BYTES", str(10 * 1024 * 1024)))
STAMPED_SCAN_MAX_PAGES = int(env_str("STAMPED_SCAN_MAX_PAGES", "10"))
# 群众评议 (evaluations/services.py): one ballot per browser; online ballots one network (an office
# or community room behind one NAT address) may cast on one commitment per day, and per hour overall.
BALLOTS_PER_NETWORK_PER_DAY = int(env_str("BALLOTS_PER_NETWORK_PER_DAY", "30"))
BALLOTS_PER_CLIENT_HOUR = int(env_str("BALLOTS_PER_CLIENT_HOUR", "60"))

# --- Accounts and sessions (GB/T 22239-2019 level 2: 身份鉴别, 访问控制; see orgs/accounts.py)
# Failed logins: a username is locked after LOGIN_FAILURE_LIMIT failures within
# LOGIN_FAILURE_WINDOW_MINUTES, for LOGIN_LOCKOUT_MINUTES; one client address after
# LOGIN_FAILURES_PER_CLIENT failures (higher: colleagues behind one NAT address share it).
LOGIN_FAILURE_LIMIT = int(env_str("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_FAILURE_WINDOW_MINUTES = int(env_str("LOGIN_FAILURE_WINDOW_MINUTES", "15"))
LOGIN_LOCKOUT_MINUTES = int(env_str("LOGIN_LOCKOUT_MINUTES", "15"))
LOGIN_FAILURES_PER_CLIENT = int(env_str("LOGIN_FAILURES_PER_CLIENT", "20"))
# Passwords (orgs/password_validation.py): length, character classes out of upper, lower,
# digit and symbol, how many earlier passwords may not be reused, and the maximum age of the
# passwords of the three administrators (0 = never expires).
PASSWORD_MIN_LENGTH = int(env_str("PASSWORD_MIN_LENGTH", "8"))
PASSWORD_MIN_CLASSES = int(env_str("PASSWORD_MIN_CLASSES", "3"))
PASSWORD_HISTORY_COUNT = int(env_str("PASSWORD_HISTORY_COUNT", "3"))
PASSWORD_MAX_AGE_DAYS = int(env_str("PASSWORD_MAX_AGE_DAYS", "90"))
# A password reset hands out a one-time link to set a new password, valid this many hours.
PASSWORD_RESET_TOKEN_HOURS = int(env_str("PASSWORD_RESET_TOKEN_HOURS", "24"))
# Sessions end after this much inactivity, and this long after login whatever happens.
SESSION_IDLE_TIMEOUT_MINUTES = int(env_str("SESSION_IDLE_TIMEOUT_MINUTES", "30"))
SESSION_ABSOLUTE_HOURS = int(env_str("SESSION_ABSOLUTE_HOURS", "12"))
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_HOURS * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# --- Audit trail
# Days the audit trail (orgs.AuditEvent) must stay available; 网络安全法 第二十一条 asks for at
# least six months, and a system check (orgs/checks.py) refuses less than 180. The application
# never deletes audit rows: archiving older ones is an operator's task outside the application.
AUDIT_RETENTION_DAYS = int(env_str("AUDIT_RETENTION_DAYS", "180"))

# --- Background tasks (django.tasks; commitments/jobs.py, commitments/tasks.py)
# Long exports run as jobs: the request enqueues a task in the database (django-tasks-db) and
# `manage.py db_worker` runs it; the user follows the progress on /jobs/<id>/ and downloads the
# result. No extra server. Above these sizes a request is turned into a job instead of being
# answered at once: forms in a batch PDF, commitments in a ledger.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
BACKGROUND_PDF_THRESHOLD = int(env_str("BACKGROUND_PDF_THRESHOLD", "100"))
# Approving or publishing a commitment queues the layout of its printable form (db_worker), so
# printing finds it rendered.
PDF_PRERENDER = env_bool("PDF_PRERENDER", True)
LEDGER_BACKGROUND_THRESHOLD = int(env_str("LEDGER_BACKGROUND_THRESHOLD", "5000"))
# Coverage dashboards whose figures took at least COVERAGE_CACHE_MIN_SECONDS to count (a city's or
# a province's subtree) are kept this long in the cache and show when they were counted; 0 turns
# it off.
COVERAGE_CACHE_SECONDS = int(env_str("COVERAGE_CACHE_SECONDS", "300"))
COVERAGE_CACHE_MIN_SECONDS = float(env_str("COVERAGE_CACHE_MIN_SECONDS", "0.05"))
# Lists count at most this many rows (core.pages.CappedPaginator); 0 counts everything.
LIST_COUNT_CAP = int(env_str("LIST_COUNT_CAP", "20000"))
# A job's result file (MEDIA_ROOT/jobs/) is removed this many hours after it was made.
JOB_RESULT_HOURS = int(env_str("JOB_RESULT_HOURS", "24"))
