# Two commands for a fresh machine with Python 3.10+ and make: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install demo test test-fast lint completions bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(PY) scripts/demo.py

test: install
	$(PY) -m pytest -q

# Unit and CLI tests without sockets or processes (a test that opens a socket fails here):
# under 30 s on a 2-CPU machine. `make test` stays the whole suite.
test-fast: install
	DTRCTL_FAST_TIER=1 $(PY) -m pytest -q -m 'not processes and not integration' \
		tests/unit tests/cli tests/test_structure.py

completions: install
	$(PY) scripts/generate_completions.py

bench: install
	$(PY) benchmarks/run.py

# What CI's lint step runs, before the tests (also the pre-commit hooks).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) scripts/generate_completions.py --check

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache .mypy_cache
