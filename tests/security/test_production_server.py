"""The production server as deployed (config/gunicorn.conf.py): gunicorn serves the pages, WhiteNoise
the collected static files under content-hashed names with a far-future cache header, compressed
for clients that accept it; behind the proxy the client's address reaches the application in
REMOTE_ADDR from X-Real-IP, and only when the peer is the trusted proxy."""
import importlib.util
import io
import re
import time
from urllib.parse import urlencode

import pytest

from tests.security import gunicorn_server
from tests.security.gunicorn_server import BASE_DIR, Server, base_env, csrf_form, prepare_database, query

# The fixtures of the shared server module, for this module's tests.
collected_static = gunicorn_server.collected_static
fresh_database_url = gunicorn_server.fresh_database_url

YEAR_AND_MORE = 315360000  # WhiteNoise's max-age for files with a hash in their name (ten years)


def load_config(monkeypatch, **env):
    for name in ("BIND", "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS", "REAL_IP_HEADER", "GUNICORN_CONTROL_SOCKET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("gunicorn_conf_under_test", BASE_DIR / "config" / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_config_reads_the_environment(monkeypatch):
    conf = load_config(monkeypatch)
    assert conf.bind == ["127.0.0.1:8000"] and 3 <= conf.workers <= 8
    assert conf.accesslog == "-" and conf.graceful_timeout > 0 and conf.control_socket_disable
    conf = load_config(monkeypatch, BIND="127.0.0.1:8714", WEB_CONCURRENCY="2", GRACEFUL_TIMEOUT="7")
    assert conf.bind == ["127.0.0.1:8714"] and conf.workers == 2 and conf.graceful_timeout == 7


def _seen_address(app, environ):
    seen = {}

    def inner(env, start_response):
        seen.update(env)
        return [b""]

    app.app = inner
    app(environ, lambda *a: None)
    return seen.get("REMOTE_ADDR"), "HTTP_X_REAL_IP" in seen


@pytest.mark.parametrize("peer, header, expected", [
    ("127.0.0.1", "203.0.113.9", "203.0.113.9"),    # from the proxy: the client's address
    ("127.0.0.1", "2001:db8::7", "2001:db8::7"),
    ("192.0.2.50", "203.0.113.9", "192.0.2.50"),     # from anyone else: the header is ignored
    ("127.0.0.1", "203.0.113.9, 10.0.0.1", "127.0.0.1"),  # not one valid address: ignored
    ("127.0.0.1", "", "127.0.0.1"),
])
def test_real_client_address_only_from_the_trusted_proxy(monkeypatch, peer, header, expected):
    conf = load_config(monkeypatch)
    app = conf.RealClientAddress(None, conf._REAL_IP_ENVIRON, conf._trusted_networks(conf.forwarded_allow_ips))
    environ = {"REMOTE_ADDR": peer}
    if header:
        environ["HTTP_X_REAL_IP"] = header
    address, header_left = _seen_address(app, environ)
    assert address == expected and not header_left


def test_gunicorn_serves_pages_hashed_static_files_and_the_real_client_address(
        tmp_path, collected_static, fresh_database_url):
    env = base_env(fresh_database_url, tmp_path, collected_static)
    prepare_database(env)
    server = Server(env, tmp_path / "gunicorn.log", workers=2)
    try:
        server.start()
        status, headers, body = server.request("GET", "/accounts/login/")
        assert status == 200 and "公开承诺" in body.decode()
        css = re.search(rb'href="(/static/css/app\.[0-9a-f]{12}\.css)"', body)
        assert css, body[:800]

        status, headers, body = server.request("GET", css.group(1).decode(), headers={"Accept-Encoding": "identity"})
        assert status == 200 and headers["Content-Type"].startswith("text/css") and b"--gov-red" in body
        assert f"max-age={YEAR_AND_MORE}" in headers["Cache-Control"] and "immutable" in headers["Cache-Control"]
        status, headers, compressed = server.request("GET", css.group(1).decode(), headers={"Accept-Encoding": "gzip"})
        assert status == 200 and headers["Content-Encoding"] == "gzip" and len(compressed) < len(body)
        # The unhashed name still answers, but may change: a short cache only.
        status, headers, _ = server.request("GET", "/static/css/app.css")
        assert status == 200 and f"max-age={YEAR_AND_MORE}" not in headers.get("Cache-Control", "")
        status, _, _ = server.request("GET", "/static/../config/settings.py")
        assert status == 404 or status == 400

        # A failed login from the proxy's client 198.51.100.7: the audit row names that address.
        cookie, token = csrf_form(server, "/accounts/login/")
        body = urlencode({"csrfmiddlewaretoken": token, "username": "nobody", "password": "wrong-password-1"})
        status, _, _ = server.request("POST", "/accounts/login/", body.encode(), {
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={cookie}",
            "X-Real-IP": "198.51.100.7"})
        assert status == 200
        # The worker writes its access-log line after the response has gone out: wait for it
        # (bounded) before the server is killed.
        expected = '198.51.100.7 "POST /accounts/login/'
        deadline = time.monotonic() + 15
        while expected not in (tmp_path / "gunicorn.log").read_text(errors="replace"):
            assert time.monotonic() < deadline, "the access log never named the proxied client"
            time.sleep(0.1)
    finally:
        server.kill()
    rows = query(fresh_database_url, "SELECT client_ip FROM orgs_auditevent WHERE action = %s", ("auth.login_failed",))
    assert [str(ip) for (ip,) in rows] == ["198.51.100.7"]


def test_printed_forms_render_with_the_production_static_storage(settings, collected_static):
    """The PDF renderer reads its stylesheet and fonts from the source static folders (static:
    URLs, commitments/pdf.py), so the hashed, collected files of production change nothing."""
    from pypdf import PdfReader

    from commitments import pdf

    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    settings.STATIC_ROOT = collected_static
    from django.templatetags.static import static

    assert re.fullmatch(r"/static/css/app\.[0-9a-f]{12}\.css", static("css/app.css"))
    data = pdf.forms_pdf([pdf.blank_form(pdf.ANNEX2)], title="党员公开承诺书-空白")
    reader = PdfReader(io.BytesIO(data))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "党员公开承诺书" in text
    fonts = {str(font.get("/BaseFont", "")) for page in reader.pages
             for font in (page["/Resources"].get("/Font") or {}).values()
             for font in [font.get_object()]}
    assert any("Fandol" in name for name in fonts), fonts
