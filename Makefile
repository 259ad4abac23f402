# Alliance CRM — `make help` lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1:8000

.DEFAULT_GOAL := help
.PHONY: help run install install-dev test lint format audit migrate seed worker beat messages check-deploy clean bench bench-smoke

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-13s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed ## Create .venv and install the CRM

install-dev: $(VENV)/.installed-dev ## Install the CRM with test and lint tools

audit: install-dev ## Known vulnerabilities in the installed dependencies (pip-audit)
	bash .ci/audit

migrate: install ## Apply database migrations
	$(BIN)/python manage.py migrate --noinput

seed: migrate ## Load the fictional demo data (safe to repeat)
	@# The coordinator login first, so demo follow-ups and invitations have an owner.
	$(BIN)/python manage.py dev_login
	$(BIN)/python manage.py seed_demo

run: seed ## Install, migrate, load demo data and serve http://127.0.0.1:8000
	$(BIN)/python manage.py dev_login
	@# Beat's job in the embedded default: a pass of reminders, digests and due mail a minute.
	@$(BIN)/python manage.py send_due_mail --every 60 & pass=$$!; \
	trap 'kill $$pass 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver $(HOST)

test: install-dev ## Run the test suite (DATABASE_URL picks the database; SQLite without)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

BENCH_SCRIPTS := api_list rsvp_page mail imports indexes
SMOKE_DB      := alliance_bench_smoke
PSQL          := psql -h 127.0.0.1 -U postgres -qc

# The benchmarks (bench/, docs/performance.md): PostgreSQL and Redis (db 14) must be up.
bench: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/alliance_bench
bench: export BENCH_SCALE ?= 100000
bench: export CELERY_BROKER_URL = redis://127.0.0.1:6379/14
bench: export DJANGO_SETTINGS_MODULE = bench.settings
bench: install-dev ## Run the five benchmarks (seeds BENCH_SCALE contacts once; not in `test`)
	$(BIN)/python -m bench.seed
	@for script in $(BENCH_SCRIPTS); do \
		echo; echo "== bench/$$script.py"; $(BIN)/python -m bench.$$script || exit 1; \
	done

# A tiny run of every benchmark in its own database and Redis db 15: checks they run, not
# their figures.
bench-smoke: export DATABASE_URL = postgres://postgres@127.0.0.1:5432/$(SMOKE_DB)
bench-smoke: export BENCH_SCALE = 300
bench-smoke: export BENCH_SMOKE = 1
bench-smoke: export BENCH_REQUESTS = 5
bench-smoke: export CELERY_BROKER_URL = redis://127.0.0.1:6379/15
bench-smoke: export DJANGO_SETTINGS_MODULE = bench.settings
bench-smoke: install-dev ## A tiny run of every benchmark (CI)
	$(PSQL) "DROP DATABASE IF EXISTS $(SMOKE_DB)" postgres
	$(PSQL) "CREATE DATABASE $(SMOKE_DB)" postgres
	redis-cli -h 127.0.0.1 -n 15 flushdb >/dev/null
	@status=0; $(BIN)/python -m bench.smoke || status=$$?; \
	$(PSQL) "DROP DATABASE IF EXISTS $(SMOKE_DB)" postgres; exit $$status

lint: install-dev ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev ## Format and autofix with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

worker: install ## Run a Celery worker (needs CELERY_BROKER_URL)
	$(BIN)/celery -A crm worker -l info

beat: install ## Run Celery beat, the one scheduler (needs CELERY_BROKER_URL)
	$(BIN)/celery -A crm beat -l info --scheduler django_celery_beat.schedulers:DatabaseScheduler

messages: install-dev ## Extract and compile translations (needs GNU gettext)
	$(BIN)/python manage.py makemessages -l ru --ignore=.venv --ignore=var --ignore=tests
	$(BIN)/python manage.py compilemessages --ignore=.venv

check-deploy: install ## Check production settings (DJANGO_DEBUG=0 with a throwaway key)
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY=$$(openssl rand -hex 32) DJANGO_ALLOWED_HOSTS=crm.example.org \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

clean: ## Remove the virtualenv and local data under var/
	rm -rf $(VENV) var
