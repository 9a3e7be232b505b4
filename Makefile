# CapsNets, the book. `make test` and `make book` set up .venv first (only when
# requirements.txt or pyproject.toml changed), then do their job.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The oldest TensorFlow/Keras pair requirements.txt allows, pinned in requirements-oldest.txt
OLDEST := .venv-oldest
OLDEST_STAMP := $(OLDEST)/.installed
export CAPSNET_QUICK ?= 1
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: grade-all node-deps setup setup-oldest test lint unit notebooks notebooks-oldest wheel book book-test site-test mathjax student student-test publish format clean pdf pdf-test student-book student-book-test lab

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -U pip
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

setup: $(STAMP)

$(OLDEST_STAMP): requirements-oldest.txt pyproject.toml
	test -x $(OLDEST)/bin/python || $(PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install -q -U pip
	$(OLDEST)/bin/python -m pip install -q -r requirements-oldest.txt
	touch $@

setup-oldest: $(OLDEST_STAMP)

## test: everything CI runs: lint, unit tests, every notebook under nbval, the book (and its PDF),
## the browser check, the student edition and the student site
test: setup lint unit notebooks notebooks-oldest book-test site-test pdf-test student-test student-book student-book-test

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: setup
	$(BIN)/python -m pytest tests -m "not site and not student and not pdf and not student_site and not grade_all"

## grade-all: the grader on every chapter's solutions (full marks) and stubs (zero), ~25 min on
## two cores; outside `make test`, whose budget it would break
grade-all: setup
	$(BIN)/python -m pytest tests -m grade_all

## notebooks: every chapter under nbval; tests/conftest.py records what each code cell printed or
## raised in _build/executed/, which student-test then uses instead of running the chapter again
## (tests/native_logs.py fails a cell whose output holds a line of TensorFlow's native log)
notebooks: setup
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env notebooks -p no:cacheprovider -p tests.conftest -p tests.native_logs

## wheel: the library as `pip install git+...` builds it for a Colab reader, into dist/wheel/,
## from a clean copy of its sources (setuptools would reuse a build/ folder left in the checkout)
WHEEL_DIR := dist/wheel
WHEEL_SOURCE := _build/wheel-source
wheel: setup
	rm -rf $(WHEEL_DIR) $(WHEEL_SOURCE)
	mkdir -p $(WHEEL_DIR) $(WHEEL_SOURCE)
	cp -R capsnet_lib pyproject.toml README.md $(WHEEL_SOURCE)/
	find $(WHEEL_SOURCE) -name __pycache__ -prune -exec rm -rf {} +
	$(BIN)/python -m pip wheel -q --no-deps -w $(WHEEL_DIR) $(WHEEL_SOURCE)

## notebooks-oldest: every chapter as a Colab reader meets it, on the oldest TensorFlow/Keras
## allowed: the library installed from the wheel (not the checkout), each notebook alone in an
## empty folder outside the checkout, nothing fetched but MNIST (CAPSNET_DATA_DIR offline), and
## no native log line in any output (tests/native_logs.py, copied in as the folder's conftest)
notebooks-oldest: setup-oldest wheel
	$(OLDEST)/bin/python -m pip install -q --no-deps --force-reinstall $(WHEEL_DIR)/capsnet_lib-*.whl
	@alone=$$(mktemp -d -t capsnets-alone-XXXXXX); \
	for nb in notebooks/[0-9][0-9]_*.ipynb; do \
	  mkdir "$$alone/$$(basename $$nb .ipynb)" && cp $$nb "$$alone/$$(basename $$nb .ipynb)/"; \
	done; \
	cp tests/native_logs.py "$$alone/conftest.py"; \
	echo "chapters alone in $$alone, from the installed wheel"; \
	cd "$$alone" && "$(CURDIR)/$(OLDEST)/bin/python" -c "import capsnet_lib, pathlib; \
	  where = pathlib.Path(capsnet_lib.__file__); \
	  assert 'site-packages' in where.parts, f'capsnet_lib from {where}, not the wheel'" && \
	"$(CURDIR)/$(OLDEST)/bin/python" -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider .; \
	status=$$?; rm -rf "$$alone"; exit $$status

## book: build the site into _build/html (notebooks executed in quick mode, cached), then the
## whole book as one PDF: the one-page build printed by Chromium to _build/pdf/capsnets-book.pdf,
## which the site links to (copied to its root). The one-page build has its own Sphinx
## environment in _build/onepage (a shared one would leave pages it re-read unwritten in
## _build/html) and the site's execution cache, linked in, so nothing is executed twice. Chapters
## that nbval ran with the same code and environment (`make notebooks`, before it in `make test`)
## go into that cache first (tools/seed_book_cache.py): the build executes only the others.
PDF := _build/pdf/capsnets-book.pdf
ONEPAGE := _build/onepage
book: setup mathjax
	$(BIN)/python tools/seed_book_cache.py
	$(BIN)/jupyter-book build . -W --keep-going
	mkdir -p $(ONEPAGE)/_build
	ln -sfn ../../.jupyter_cache $(ONEPAGE)/_build/.jupyter_cache
	$(BIN)/jupyter-book build . --builder singlehtml -W --keep-going --path-output $(ONEPAGE)
	$(BIN)/python tools/book_pdf.py $(ONEPAGE)/_build/singlehtml $(PDF) --copy-to _build/html --skip-without-browser

## pdf: the PDF (made by `make book`)
pdf: book

## pdf-test: open the PDF: pages, every chapter's title, no raw TeX (needs `make book` first)
pdf-test: setup
	$(BIN)/python -m pytest tests -m pdf

## mathjax: MathJax 3 served from the site, never from a CDN. The npm package's es5 build goes
## to mathjax/mathjax/; _config.yml's html_extra_path copies mathjax/'s contents to the site root.
MATHJAX := mathjax/mathjax/tex-mml-chtml.js
NODE_DEPS := node_modules/.book-deps
mathjax: $(MATHJAX)

$(MATHJAX): $(NODE_DEPS)
	rm -rf mathjax
	mkdir -p mathjax
	cp -R node_modules/mathjax/es5 mathjax/mathjax
	touch $@

## node-deps: the npm packages the book uses, in one install (a second `npm install --no-save`
## would remove the first's): MathJax for the site, axe-core for the accessibility tests
node-deps: $(NODE_DEPS)

$(NODE_DEPS):
	npm install --no-save --no-audit --no-fund mathjax@3 axe-core@4
	test -f node_modules/mathjax/es5/tex-mml-chtml.js
	test -f node_modules/axe-core/axe.min.js
	touch $@

book-test: book

## site-test: every page of _build/html in headless Chromium (needs `make book` first)
site-test: setup $(NODE_DEPS)
	$(BIN)/python -m pytest tests -m site

## student: the student edition (solutions removed) in dist/student
student: setup
	$(BIN)/python tools/student_edition.py notebooks dist/student

## student-test: after `notebooks` (in `test`), it judges the checks on the solutions on nbval's
## record; alone, or with a stale record, it executes the chapters itself (the same result, slower)
student-test: setup
	$(BIN)/python -m pytest tests -m student

## student-book: the site without solutions, in _build/student-html, for an instructor to
## publish while an assignment is open: every chapter's student edition (solution prose gone,
## solution code a stub) with the outputs `make book` computed, so nothing runs again
student-book: book
	$(BIN)/python tools/student_site.py _build/student-html

## student-book-test: the student site in headless Chromium (needs `make student-book` first)
student-book-test: setup $(NODE_DEPS)
	$(BIN)/python -m pytest tests -m student_site

## lab: JupyterLab on the notebooks, from .venv (installs jupyterlab into it the first time),
## in quick mode unless CAPSNET_QUICK is set otherwise; LAB_ARGS go to `jupyter lab`
## (e.g. LAB_ARGS=--no-browser on a remote machine)
LAB_ARGS ?=
lab: setup
	$(BIN)/python -c "import jupyterlab" 2>/dev/null || $(BIN)/python -m pip install -q jupyterlab
	$(BIN)/jupyter lab notebooks/ $(LAB_ARGS)

## publish: push _build/html to the gh-pages branch (CI deploys with .github/workflows/pages.yml)
publish: book
	$(BIN)/ghp-import -n -p -f _build/html

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf _build dist .pytest_cache $(OLDEST)
