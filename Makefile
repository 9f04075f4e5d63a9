# Vermilion: `make run` serves a demo clinic, `make test` runs the suite.
# Both create .venv with a Python >= 3.12 found on this machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# The first interpreter of 3.12 or newer: $PYTHON if set, then the usual names,
# then pyenv's versions (pyenv's shims answer for the global version only).
define find_python
for c in "$${PYTHON:-}" python3.14 python3.13 python3.12 python3 \
         $$(ls -d $$HOME/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV) \
         /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do \
  [ -n "$$c" ] || continue; \
  if "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
    command -v "$$c"; exit 0; \
  fi; \
done; exit 1
endef

.PHONY: help
help:
	@echo "make run    set up .venv, migrate, seed the demo clinic and serve on http://$(HOST):$(PORT)"
	@echo "make test   set up .venv and run the test suite (DATABASE_URL=postgres://... for PostgreSQL)"
	@echo "make lint   ruff"
	@echo "make bench  benchmarks on PostgreSQL (about 6 minutes); figures go to docs/BENCHMARKS.md"
	@echo "make backup [FILE=...] / make restore FILE=...   copy the database out / back in"

$(PY):
	@python=$$($(find_python)) || { \
	  echo "Vermilion needs Python 3.12 or newer, and none was found."; \
	  echo "Install one (e.g. 'pyenv install 3.13') or point to it: make run PYTHON=/path/to/python3.13"; \
	  exit 1; }; \
	echo "Creating $(VENV) with $$python ($$($$python --version))"; \
	rm -rf $(VENV) && "$$python" -m venv $(VENV)

$(VENV)/.deps-run: requirements.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.deps-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@ $(VENV)/.deps-run

$(VENV)/.deps-bench: requirements.txt requirements-dev.txt requirements-bench.txt | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	@touch $@ $(VENV)/.deps-dev $(VENV)/.deps-run

# The peer make bench compares with (bench/peer.py) gets a venv of its own:
# django-appointment needs Pillow < 13, and Vermilion pins 13.
$(VENV)-peer/.deps: requirements-peer.txt | $(PY)
	rm -rf $(VENV)-peer && $(PY) -c 'import venv; venv.create("$(VENV)-peer", with_pip=True)'
	$(VENV)-peer/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-peer.txt
	@touch $@

.PHONY: check-venv
check-venv:
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
	  echo "$(VENV) was made with an older Python; making it again."; rm -rf $(VENV); fi

.PHONY: venv
venv: check-venv
	@$(MAKE) --no-print-directory $(VENV)/.deps-dev

.PHONY: run
run: check-venv
	@$(MAKE) --no-print-directory $(VENV)/.deps-run
	DEBUG=1 $(PY) manage.py migrate --no-input
	@DEBUG=1 SITE_URL="$${SITE_URL:-http://$(HOST):$(PORT)}" $(PY) manage.py seed_demo
	DEBUG=1 SITE_URL="$${SITE_URL:-http://$(HOST):$(PORT)}" $(PY) manage.py runserver $(HOST):$(PORT)

.PHONY: test
test: venv
	$(PY) -m pytest $(PYTEST_ARGS)

# Seeds (once, then reuses) databases vermilion_scale_1x and _100x, and
# vermilion_bench; vermilion_peer_* for the comparison with django-appointment;
# never touches a clinic's own database.
.PHONY: bench
bench: check-venv
	@$(MAKE) --no-print-directory $(VENV)/.deps-bench $(VENV)-peer/.deps
	@pg_isready -q -h 127.0.0.1 -p 5432 || { \
	  echo "make bench needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth)."; \
	  echo "Start it, e.g. pg_ctlcluster --skip-systemctl-redirect \$$(ls /etc/postgresql) main start"; \
	  exit 1; }
	$(PY) -m bench.run $(BENCH_ARGS)

.PHONY: emails
emails: check-venv
	@$(MAKE) --no-print-directory $(VENV)/.deps-run
	DEBUG=1 $(PY) manage.py send_due_notifications

# Backups of whichever database DATABASE_URL names (SQLite by default).
.PHONY: backup
backup: check-venv
	@$(MAKE) --no-print-directory $(VENV)/.deps-run
	DEBUG=1 $(PY) manage.py backup $(if $(FILE),--output $(FILE))

.PHONY: restore
restore: check-venv
	@test -n "$(FILE)" || { echo "Say which backup: make restore FILE=backups/vermilion-....sqlite3"; exit 1; }
	@$(MAKE) --no-print-directory $(VENV)/.deps-run
	DEBUG=1 $(PY) manage.py restore $(FILE)

.PHONY: lint
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Re-fetch the vendored front-end files from the npm registry (versions below).
# The files are committed, so pages never depend on a CDN or on npm at run time.
BOOTSTRAP_VERSION := 5.3.9
BOOTSTRAP_ICONS_VERSION := 1.13.2
SIGNATURE_PAD_VERSION := 5.1.4
HTMX_VERSION := 2.0.11
AXE_CORE_VERSION := 4.14.1
.PHONY: vendor
vendor:
	@tmp=$$(mktemp -d) && cd $$tmp && \
	npm pack --silent bootstrap@$(BOOTSTRAP_VERSION) bootstrap-icons@$(BOOTSTRAP_ICONS_VERSION) \
	  signature_pad@$(SIGNATURE_PAD_VERSION) htmx.org@$(HTMX_VERSION) \
	  axe-core@$(AXE_CORE_VERSION) >/dev/null && \
	for f in *.tgz; do mkdir -p "$${f%.tgz}" && tar xzf "$$f" -C "$${f%.tgz}"; done && \
	cd $(CURDIR) && v=static/vendor && \
	cp $$tmp/bootstrap-$(BOOTSTRAP_VERSION)/package/dist/css/bootstrap.min.css* $$v/bootstrap/css/ && \
	cp $$tmp/bootstrap-$(BOOTSTRAP_VERSION)/package/dist/js/bootstrap.bundle.min.js* $$v/bootstrap/js/ && \
	cp $$tmp/bootstrap-icons-$(BOOTSTRAP_ICONS_VERSION)/package/font/bootstrap-icons.min.css $$v/bootstrap-icons/ && \
	cp $$tmp/bootstrap-icons-$(BOOTSTRAP_ICONS_VERSION)/package/font/fonts/* $$v/bootstrap-icons/fonts/ && \
	cp $$tmp/signature_pad-$(SIGNATURE_PAD_VERSION)/package/dist/signature_pad.umd.min.js* $$v/signature_pad/ && \
	mkdir -p $$v/htmx $$v/axe-core && \
	cp $$tmp/htmx.org-$(HTMX_VERSION)/package/dist/htmx.min.js $$tmp/htmx.org-$(HTMX_VERSION)/package/LICENSE $$v/htmx/ && \
	cp $$tmp/axe-core-$(AXE_CORE_VERSION)/package/axe.min.js $$tmp/axe-core-$(AXE_CORE_VERSION)/package/LICENSE $$v/axe-core/ && \
	rm -rf $$tmp && echo "Vendored files refreshed in $$v"
