# Surgeline — `make run` serves the demo, `make test` runs the suite. Only Python 3.11 and make needed.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
PORT   ?= 5000
export FLASK_APP := app:create_app
PYTEST_ARGS ?=

.PHONY: help install translations db seed run test lint audit extract prod worker clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-*; touch $@

install: $(STAMP)  ## Create .venv and install the pinned requirements

translations: $(STAMP)  ## Compile the zh/en message catalogues
	$(BIN)/pybabel compile --statistics -d app/translations 2>&1 | grep -v '^$$' || true

db: translations  ## Apply migrations to the database (SQLite under instance/ by default)
	$(BIN)/flask db upgrade heads

seed: db  ## Seed the demo once (idempotent)
	$(BIN)/flask seed-demo

run: seed  ## Set everything up and serve the demo on http://127.0.0.1:$(PORT)
	$(BIN)/flask serve --port $(PORT)

test: translations  ## Run the whole test suite (SQLite; also PostgreSQL/Redis when TEST_DATABASE_URL/TEST_REDIS_URL are set)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)  ## ruff
	$(BIN)/ruff check app academy tests bench worker.py config.py

audit: $(STAMP)  ## bandit over the app, then pip-audit over the pinned requirements (docs/security.md)
	@log=$$(mktemp); $(BIN)/bandit -q -c .bandit.yaml -r app academy worker.py config.py 2>$$log; status=$$?; \
	  grep -v 'WARNING' $$log; rm -f $$log; echo "bandit: exit $$status"; exit $$status
	BIN=$(BIN) .ci/audit_deps.sh

extract: $(STAMP)  ## Extract strings and update the catalogues
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o app/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching --ignore-obsolete

worker: db  ## Run one RQ worker (needs REDIS_URL)
	$(BIN)/python worker.py

prod: translations  ## Production topology on one machine: migrate, gunicorn, 2 workers, the cron scheduler (needs DATABASE_URL, REDIS_URL, SECRET_KEY)
	@test -n "$$DATABASE_URL" -a -n "$$REDIS_URL" -a -n "$$SECRET_KEY" || { echo "set DATABASE_URL, REDIS_URL and SECRET_KEY"; exit 2; }
	SURGELINE_ENV=production $(BIN)/flask db upgrade heads
	@trap 'kill 0' EXIT INT TERM; \
	SURGELINE_ENV=production $(BIN)/python worker.py & \
	SURGELINE_ENV=production $(BIN)/python worker.py & \
	SURGELINE_ENV=production $(BIN)/python worker.py cron & \
	SURGELINE_ENV=production $(BIN)/gunicorn -c python:app.gunicorn_conf 'app:create_app()'

clean:  ## Remove the local database and caches
	rm -rf instance .pytest_cache
