# Two commands do everything on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint worker beat migrate seed bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (found $(PYTHON)); set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed  ## serve the product on the embedded default, with the demo city
	$(FLASK) db upgrade
# seed-demo binds the demo catalog to /_sandbox at the address the server is about to listen on.
	PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)} $(FLASK) seed-demo
	@echo ""
	@echo "  City Services API   http://$(HOST):$(PORT)/api/v1/status"
	@echo "  API docs            http://$(HOST):$(PORT)/api/docs"
	@echo "  Sandbox twins       http://$(HOST):$(PORT)/_sandbox/   (docs/sandbox.md)"
	@echo "  Demo walkthrough    docs/demo.md"
	@echo ""
	EMBEDDED_SERVER=1 PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)} $(BIN)/gunicorn -c gunicorn.conf.py --bind $(HOST):$(PORT) --workers 1 --threads 8 wsgi:app

test: $(VENV)/.installed-dev  ## run the test suite against PostgreSQL and Redis
	$(BIN)/python scripts/check_services.py
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

worker: $(VENV)/.installed  ## a Celery worker (needs REDIS_URL)
	$(BIN)/celery -A app.jobs.worker worker --loglevel=INFO

beat: $(VENV)/.installed  ## Celery beat, the periodic-job scheduler (run exactly one)
	$(BIN)/celery -A app.jobs.worker beat --loglevel=INFO

migrate: $(VENV)/.installed
	$(FLASK) db upgrade

bench: $(VENV)/.installed-dev
	$(BIN)/python scripts/bench_http.py

clean:
	rm -rf $(VENV) instance/city.db .pytest_cache
