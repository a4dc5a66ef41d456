# Two commands for a fresh machine with Python 3.10+ and make: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: install demo test test-fast lint completions bench dist requirements clean

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

# A release's files: dist/ with the sdist, the wheel and SHA256SUMS (scripts/dist.py says the
# tag, v$VERSION, and refuses a tag on HEAD that is not the version's).
dist: install
	$(PY) scripts/dist.py --outdir dist

# The GitHub Action's dependencies pinned by hash, from pyproject.toml (and the build backend):
# run after changing the dependencies; tests/test_action_requirements.py fails while stale.
requirements:
	$(PYTHON) -m venv .tools-venv
	.tools-venv/bin/python -m pip install --quiet 'uv>=0.5'
	.tools-venv/bin/uv pip compile --quiet --universal --generate-hashes --python-version 3.10 \
		pyproject.toml requirements/action.in -o requirements/action.txt
	rm -rf .tools-venv

# What CI's lint step runs, before the tests (also the pre-commit hooks).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) scripts/generate_completions.py --check

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache .mypy_cache
