# The course's two commands:  make build  (site + student release)   make test  (everything)
# Both create .venv if missing and install the pinned requirements into it.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: build test release site system-packages lint clean vendor-check

build: release site

test: build
	$(PY) -m pytest $(PYTEST_ARGS)

release: $(STAMP)
	$(PY) -m autograder release

site: $(STAMP) system-packages
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

# the exercise pages' Pyodide, numpy wheel and CodeMirror are the pinned files (the site build checks too)
vendor-check: $(STAMP)
	$(PY) tools/vendor_browser_runtime.py check

lint: $(STAMP)
	$(VENV)/bin/ruff check bpcourse autograder tests tools

$(STAMP): requirements.txt requirements-lock.txt pyproject.toml tools/ipython/ipython_kernel_config.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	mkdir -p $(VENV)/etc/ipython && cp tools/ipython/ipython_kernel_config.py $(VENV)/etc/ipython/  # quiet kernels
	touch $@

system-packages:
	tools/install-system-packages.sh

clean:
	rm -rf _build
