# 公开承诺管理系统 — the two commands of the README:
#   make run    install what is missing, migrate SQLite, load demo data, print demo accounts, serve :8000
#   make test   install what the tests need, run the suite on SQLite, then on PostgreSQL if
#               DATABASE_URL points at one
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Debian packages: CJK fonts and HarfBuzz subsetting for WeasyPrint's PDFs (without the
# subsetter each CJK PDF takes seconds), Chromium and poppler for the tests.
DEBS_RUN := fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0
DEBS_TEST := $(DEBS_RUN) chromium poppler-utils

.PHONY: help run test deps deps-run deps-test python-deps migrate seed clean

help:
	@echo "make run    启动系统（SQLite，自动安装依赖、建库、导入演示数据并打印演示账号）"
	@echo "make test   运行全部测试（SQLite；设置 DATABASE_URL 为 PostgreSQL 时再在 PostgreSQL 上运行）"

# Installs the Debian packages in $(1) when missing: as root directly, otherwise prints the line.
define ensure_debs
	@missing=""; \
	if command -v dpkg >/dev/null 2>&1; then \
	  for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	fi; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "==> apt-get install$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "缺少系统软件包，请先运行： sudo apt-get install -y$$missing"; \
	    [ "$(2)" = "optional" ] || exit 1; \
	  fi; \
	fi
endef

python-deps:
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || \
	  { echo "==> installing uv"; $(PYTHON) -m pip install --quiet --disable-pip-version-check uv; }
	@UV="$$(command -v uv || echo $(PYTHON) -m uv)"; $$UV sync --frozen --quiet

deps-run:
	$(call ensure_debs,$(DEBS_RUN),optional)
	@$(MAKE) --no-print-directory python-deps

deps-test:
	$(call ensure_debs,$(DEBS_TEST),required)
	@$(MAKE) --no-print-directory python-deps

# DEBUG=1 for every step: with DEBUG off the settings refuse the fixed development SECRET_KEY.
run: deps-run
	@env -u DATABASE_URL DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput -v 0
	@env -u DATABASE_URL DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo
	@echo "==> 打开 http://$(HOST):$(PORT)/ ，用上面的演示账号登录（按 Ctrl+C 停止）"
	@env -u DATABASE_URL DEBUG=$${DEBUG:-1} $(PY) manage.py runserver $(HOST):$(PORT)

# Tests run on every core (pytest-xdist); override with `make test PYTEST_ARGS=` for one process.
PYTEST_ARGS ?= -n auto

# SQLite always; PostgreSQL too when DATABASE_URL names one. Fails if either run fails.
test: deps-test
	@status=0; \
	echo "==> tests on SQLite"; \
	env -u DATABASE_URL $(PY) -m pytest $(PYTEST_ARGS) || status=$$?; \
	case "$${DATABASE_URL:-}" in \
	  postgres://*|postgresql://*) \
	    echo "==> tests on PostgreSQL ($${DATABASE_URL%%@*}@…)"; \
	    $(PY) -m pytest $(PYTEST_ARGS) || status=$$?;; \
	esac; \
	exit $$status

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* .pytest_cache artifacts

# --- Production (config/deploy/README.md; config/gunicorn.conf.py) --------------------------------
# make prod   install what is missing (without the test tools), check the settings, migrate,
#             collect the static files, then run gunicorn in the foreground (systemd runs the same
#             steps through config/deploy/commitments.service). Needs DATABASE_URL, SECRET_KEY,
#             ALLOWED_HOSTS and SITE_URL in the environment; HTTPS=1 and BEHIND_PROXY=1 behind nginx
#             with TLS.
.PHONY: prod
prod:
	$(call ensure_debs,$(DEBS_RUN),optional)
	@missing=""; for v in DATABASE_URL SECRET_KEY ALLOWED_HOSTS SITE_URL; do [ -n "$${!v:-}" ] || missing="$$missing $$v"; done; \
	if [ -n "$$missing" ]; then echo "缺少生产环境设置：$$missing（见 config/deploy/README.md）"; exit 1; fi
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 || \
	  { echo "==> installing uv"; $(PYTHON) -m pip install --quiet --disable-pip-version-check uv; }
	@UV="$$(command -v uv || echo $(PYTHON) -m uv)"; $$UV sync --frozen --no-dev --quiet
	$(PY) manage.py check --deploy
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v 1
	exec $(VENV)/bin/gunicorn -c config/gunicorn.conf.py config.wsgi

# Benchmark of issue 8 (bench/run.py; docs/PERFORMANCE.md): PostgreSQL only. TIER=city (20,000
# members, the default) or TIER=province (1,000,000; seeded once, about 10 minutes). The database is
# BENCH_DATABASE_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/bench_$(TIER); it
# is created, migrated and seeded when needed. Prints the table, writes bench/results/$(TIER).json.
# BENCH_ARGS passes options, e.g. BENCH_ARGS="--only pages --reps 10".
TIER ?= city
BENCH_ARGS ?=
.PHONY: bench
bench:
	$(call ensure_debs,$(DEBS_RUN) wrk,optional)
	@$(MAKE) --no-print-directory python-deps
	@# Never DATABASE_URL: the bench seeds a million rows into the database it is given.
	@DATABASE_URL="$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/bench_$(TIER)}" \
	  $(PY) -m bench.run --tier $(TIER) $(BENCH_ARGS)
