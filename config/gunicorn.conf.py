"""gunicorn settings for production: `gunicorn -c config/gunicorn.conf.py config.wsgi` (make prod).

Everything can be changed from the environment (systemd's EnvironmentFile, config/deploy/):

    BIND                 address to listen on (default 127.0.0.1:8000: nginx in front on the same host)
    WEB_CONCURRENCY      worker processes (default 2 x cores + 1, at most 8)
    GUNICORN_TIMEOUT     seconds a request may take before its worker is restarted (default 120:
                         a batch of printed forms renders for a while)
    GRACEFUL_TIMEOUT     seconds running requests get to finish on restart or stop (default 30)
    FORWARDED_ALLOW_IPS  addresses of the reverse proxy (default 127.0.0.1,::1); only requests from
                         them may set X-Forwarded-Proto and X-Real-IP
    REAL_IP_HEADER       header in which the proxy passes the client's address (default X-Real-IP;
                         empty to turn off)
    MAX_REQUESTS         requests a worker serves before it is replaced (default 1000; 0: never)

The application reads the client's address from REMOTE_ADDR only (audit trail, the suggestion
box's and the ballots' per-client limits). gunicorn sets REMOTE_ADDR to the connecting peer, which
behind nginx is nginx itself; so each worker's application is wrapped (post_worker_init) to take
the address from REAL_IP_HEADER, but only when the peer is one of FORWARDED_ALLOW_IPS and the
header holds a valid IP address. nginx overwrites that header with $remote_addr on every request,
so a client cannot choose its own address.
"""
import ipaddress
import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = [part.strip() for part in os.environ.get("BIND", "127.0.0.1:8000").split(",") if part.strip()]
workers = _int("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8))
worker_class = "sync"
timeout = _int("GUNICORN_TIMEOUT", 120)
graceful_timeout = _int("GRACEFUL_TIMEOUT", 30)
keepalive = 5
# A worker is replaced after this many requests (with jitter, so not all at once): bounds the
# memory a long-running process can gather (PDF rendering caches fonts per process). Not much
# lower: a new worker spends ~1.2 s of CPU importing the application, and at the ~1,000 req/s
# the cached public pages reach, 1,000 requests would recycle each worker every second or two
# (docs/PERFORMANCE.md).
max_requests = _int("MAX_REQUESTS", 10000)
max_requests_jitter = max(1, max_requests // 10) if max_requests else 0
# The application is imported once, in the master, and every worker is forked from it: a recycled
# worker starts in milliseconds instead of ~1.2 s of imports during which its queued requests wait
# (the public page's p99 under load, docs/PERFORMANCE.md). Django opens no database connection at
# import, so none is shared between workers. PRELOAD_APP=0 turns it off.
preload_app = os.environ.get("PRELOAD_APP", "1") not in ("0", "false", "no", "")
# Logs to the service's stdout and stderr (journald keeps them): access log on stdout with the
# client address (after the real-address rewrite below), time taken in microseconds.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(D)sus "%(f)s" "%(a)s"'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Request line and header limits stay at gunicorn's defaults; uploads are bounded by Django.
proc_name = "commitments"
# gunicorn's runtime control socket (gunicornc) is off unless GUNICORN_CONTROL_SOCKET names a path:
# systemd starts, reloads (HUP) and stops the service, and one fixed default path would be shared
# by every instance on the host.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket

_REAL_IP_ENVIRON = "HTTP_" + os.environ.get("REAL_IP_HEADER", "X-Real-IP").strip().upper().replace("-", "_")


def _trusted_networks(spec: str) -> list | None:
    """The proxy's networks from FORWARDED_ALLOW_IPS; None for '*' (any peer)."""
    parts = [part.strip() for part in spec.split(",") if part.strip()]
    if "*" in parts:
        return None
    return [ipaddress.ip_network(part, strict=False) for part in parts]


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


class RealClientAddress:
    """WSGI wrapper: REMOTE_ADDR := the proxy's real-address header, for trusted peers only."""

    def __init__(self, app, header_environ: str, trusted: list | None):
        self.app = app
        self.header_environ = header_environ
        self.trusted = trusted

    def peer_trusted(self, peer: str) -> bool:
        if not peer:
            # A UNIX socket: only local processes allowed by its file mode can connect.
            return True
        if self.trusted is None:
            return True
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in network for network in self.trusted)

    def __call__(self, environ, start_response):
        forwarded = environ.get(self.header_environ)
        if forwarded:
            if self.peer_trusted(environ.get("REMOTE_ADDR", "")):
                client = _valid_ip(forwarded)
                if client:
                    environ["PROXY_ADDR"] = environ.get("REMOTE_ADDR", "")
                    environ["REMOTE_ADDR"] = client
            # Never let the application see a header it should not rely on.
            del environ[self.header_environ]
        return self.app(environ, start_response)


def post_worker_init(worker):
    if _REAL_IP_ENVIRON != "HTTP_":
        worker.wsgi = RealClientAddress(worker.wsgi, _REAL_IP_ENVIRON, _trusted_networks(forwarded_allow_ips))
