# Two commands on a fresh Linux machine with Python 3.11:
#   make run    set up a virtualenv and start the app on the demo borough
#   make test   set up a virtualenv and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test lint audit bench clean

$(VENV)/.installed-runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed-runtime
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed-runtime
	$(PY) -m rc_dashboard.ui.launch app.py --server.port $(PORT)

test: $(VENV)/.installed-dev
	$(PY) -m pytest -q

# Known vulnerabilities: installed versions against config/security_minimums.yaml (offline), then pip-audit
# (PyPI advisory service), reporting how many packages it really audited. Fails on any vulnerability found;
# an unreachable advisory service is reported and fails only with STRICT=1.
audit: $(VENV)/.installed-dev
	$(PY) -m rc_dashboard.security_audit $(if $(STRICT),--strict)

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .

clean:
	rm -rf data/rc_dashboard.sqlite* data/demo_truth* screenshots
