"""Production settings pass Django's deployment checklist; a laptop's DEBUG run is not production.

Each case runs `manage.py` in a fresh process, because settings are read from the environment
once at start-up.
"""
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
# Variables of the developer's or CI's shell that would change what the settings decide.
_SETTINGS_VARS = ("DEBUG", "SITE_URL", "EMAIL_BACKEND", "EMAIL_HOST", "SECRET_KEY", "ALLOWED_HOSTS", "HTTPS", "BEHIND_PROXY", "SECURE_COOKIES",
                  "REQUIRE_SECRET_KEY", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
                  "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "DJANGO_SETTINGS_MODULE",
                  "DJANGO_ALLOW_ASYNC_UNSAFE")  # set by the browser tests in this process


def production_env(**overrides) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in _SETTINGS_VARS and not k.startswith("PYTEST")}
    env.update(SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="dj.example.gov.cn", HTTPS="1",
               SITE_URL="https://dj.example.gov.cn",
               DJANGO_SETTINGS_MODULE="config.settings",
               # Production sends its notices by SMTP (the console backend fails the deploy check).
               EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="smtp.example.gov.cn")
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def manage(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True,
                          text=True, timeout=120)


def settings_values(env, *names) -> dict[str, str]:
    """repr() of each named setting as a fresh process with `env` sees it."""
    code = ("from django.conf import settings\n"
            f"for n in {names!r}: print(n, repr(getattr(settings, n, None)))")
    result = manage("shell", "--no-imports", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    lines = [line.split(" ", 1) for line in result.stdout.strip().splitlines()]
    return {name: value for name, value in lines if name in names}


def test_production_settings_pass_the_deploy_check_without_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr and "System check identified no issues" in result.stdout


@pytest.mark.parametrize("site_url", [None, "", "http://127.0.0.1:8000", "http://localhost:8000", "https://[::1]/",
                                      "https://intranet-pc/", "dj.example.gov.cn", "http://dj.example.gov.cn"])
def test_production_refuses_a_site_url_the_public_cannot_reach(site_url):
    """The 公示 copy's QR code and address are printed from SITE_URL: unset (the laptop default),
    local, a bare machine name, no scheme, or plain http behind HTTPS fails the deploy check."""
    result = manage("check", "--deploy", env=production_env(SITE_URL=site_url))
    assert result.returncode != 0
    assert "commitments.E001" in result.stderr and "SITE_URL" in result.stderr


def test_the_laptop_run_does_not_need_a_site_url():
    env = production_env(SITE_URL=None, DEBUG="1", HTTPS=None)
    assert manage("check", env=env).returncode == 0


def test_production_behind_a_proxy_passes_and_trusts_x_forwarded_proto():
    env = production_env(BEHIND_PROXY="1")
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert settings_values(env, "SECURE_PROXY_SSL_HEADER") == {
        "SECURE_PROXY_SSL_HEADER": "('HTTP_X_FORWARDED_PROTO', 'https')"}
    # Not behind a proxy: a client's own X-Forwarded-Proto is not believed.
    assert settings_values(production_env(), "SECURE_PROXY_SSL_HEADER") == {"SECURE_PROXY_SSL_HEADER": "None"}


def test_production_turns_on_https_redirect_hsts_and_secure_cookies():
    values = settings_values(production_env(), "PRODUCTION", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
                             "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE",
                             "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY")
    assert int(values.pop("SECURE_HSTS_SECONDS")) >= 31536000
    assert values == dict.fromkeys(values, "True")


def test_hsts_preload_can_be_turned_off_and_the_check_still_passes():
    env = production_env(SECURE_HSTS_PRELOAD="0", SECURE_HSTS_SECONDS="3600")
    assert settings_values(env, "SECURE_HSTS_PRELOAD", "SECURE_HSTS_SECONDS") == {
        "SECURE_HSTS_PRELOAD": "False", "SECURE_HSTS_SECONDS": "3600"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_debug_is_not_production():
    env = production_env(DEBUG="1")
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "security.W018" in result.stderr  # DEBUG on
    # A laptop serves plain http on 127.0.0.1: no redirect, no HSTS.
    assert settings_values(env, "PRODUCTION", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS") == {
        "PRODUCTION": "False", "SECURE_SSL_REDIRECT": "False", "SECURE_HSTS_SECONDS": "0"}


def test_a_server_without_https_is_not_production():
    env = production_env(HTTPS=None, ALLOWED_HOSTS=None)
    assert settings_values(env, "PRODUCTION", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "DEBUG") == {
        "PRODUCTION": "False", "SECURE_SSL_REDIRECT": "False", "SESSION_COOKIE_SECURE": "False", "DEBUG": "False"}


@pytest.mark.parametrize("key", [None, "", "insecure-dev-key-change-me-in-production-0123456789abcdef"])
def test_debug_off_refuses_to_start_on_the_development_key_even_without_https(key):
    """DEBUG unset and HTTPS unset used to run on the fixed key anyone can read in the source."""
    env = production_env(HTTPS=None, SECRET_KEY=key)
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=BASE_DIR, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "SECRET_KEY" in result.stderr
    assert "未设置 SECRET_KEY" in result.stderr and "DEBUG=1" in result.stderr
    # A laptop with DEBUG=1 still runs on it.
    assert manage("check", env=production_env(HTTPS=None, SECRET_KEY=key, DEBUG="1")).returncode == 0


@pytest.mark.parametrize("key", [None, "", "short-key", "insecure-dev-key-change-me-in-production-0123456789abcdef",
                                 "a" * 60])
def test_production_refuses_to_start_without_a_real_secret_key(key):
    result = manage("check", env=production_env(SECRET_KEY=key))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "ImproperlyConfigured" in result.stderr


def _example_env(tmp_path) -> dict:
    """config/deploy/commitments.env.example as shipped, its CHANGE-ME placeholders filled in: a
    random key, a password, and (no PostgreSQL needed for the check) a SQLite database."""
    values = {}
    for line in (BASE_DIR / "config" / "deploy" / "commitments.env.example").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        values[key] = value.strip().strip('"')
    assert "CHANGE-ME" in values["SECRET_KEY"] and "CHANGE-ME" in values["DATABASE_URL"]
    for key, value in values.items():
        if "CHANGE-ME" in value:
            values[key] = {"SECRET_KEY": secrets.token_urlsafe(50),
                           "DATABASE_URL": f"sqlite:///{tmp_path / 'example.sqlite3'}"}.get(key, "s3cret-Pa55word")
    # Folders the check does not need but a test may not create under /srv and /var.
    for key in ("MEDIA_ROOT", "STATIC_ROOT", "BACKUP_DIR"):
        values[key] = str(tmp_path / key.lower())
    values["CACHE_URL"] = f"file://{tmp_path / 'cache'}"
    env = {k: v for k, v in os.environ.items() if k not in _SETTINGS_VARS and not k.startswith("PYTEST")}
    env.pop("DATABASE_URL", None)
    return {**env, **values, "DJANGO_SETTINGS_MODULE": "config.settings"}


def test_the_shipped_env_example_passes_the_deploy_check(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=_example_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
