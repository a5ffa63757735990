# The two commands of the README: `make demo` and `make test`. Everything else is a helper of those.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

WEB_STAMP := web/node_modules/.installed
WEB_BUILD := web/dist/index.html
WEB_SOURCES := $(shell find web/src -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json web/openapi.json

.PHONY: demo local test iam-report test-unit test-web e2e lint bench build clean sam-tools sam-validate sam-build deploy delete

# SAM CLI lives in a tool environment of its own (it pins old boto3 / pydantic), cached outside the clone and
# keyed by its requirements' hash, so CI's fresh clones reuse it.
TOOLS_CACHE ?= $(HOME)/.cache/luxebrain-tools
SAM_REQUIREMENTS := infra/sam-requirements.txt
SAM_VENV := $(TOOLS_CACHE)/sam-$(shell sha256sum $(SAM_REQUIREMENTS) | cut -c1-12)
SAM := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed
export SAM_CLI_TELEMETRY := 0
# Lambda's runtime for the zip functions and the layer: `sam build` needs python3.12 itself. pyenv's newest
# 3.12 (the interpreter, not pyenv's shim), else one on PATH.
PYTHON312 ?= $(shell ls -d $$(pyenv root 2>/dev/null)/versions/3.12*/bin/python3.12 2>/dev/null | sort -V | tail -n 1 \
	| grep . || command -v python3.12 2>/dev/null | grep -v /shims/)
# Container-image functions: `sam build` needs a running Docker daemon for them.
IMAGE_FUNCTIONS := TrainWorkerFunction
ENV ?= default
# Where the test suite's embedded stacks write which grant authorized which call (luxebrain_dev.iam_report).
IAM_TRACE := $(CURDIR)/.aws-sam/iam-trace
# pytest-xdist: one test process per core ("auto"), each with its own embedded AWS (tests/conftest.py's
# session fixture, on a port the OS picks). Whole files go to one worker, so module fixtures are set up once.
# Each worker writes its own IAM trace file (trace-<pid>-<n>.json) and the IAM report reads them all, so its
# check sees every traced call whichever worker made it; no grant may depend on state another file's tests
# leave in the embedded AWS (a grant reached only that way gets a test of its own). PYTEST_WORKERS=0 runs the
# suite in one process. xdist schedules by node id, and schemathesis gives each operation's test the same one
# (xdist then runs one of them and reports no loss; tests/conftest.py refuses such a collection): those files
# run after, in one process of their own (SERIAL_TESTS). On 2 cores, idle: 1,039 tests in 217 s on two workers
# (missing the 83 schema tests), against 403 s for the whole suite in one process.
PYTEST_WORKERS ?= auto
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --dist loadfile
SERIAL_TESTS := tests/integration/test_api_schema.py

demo: $(STAMP) $(SAM_STAMP) $(WEB_BUILD)  ## the whole system on an embedded AWS with a sample store, then its dashboard
	$(BIN)/luxebrain demo --serve

local: $(STAMP) $(SAM_STAMP) $(WEB_BUILD)  ## keep the embedded AWS, the API and the dashboard running on localhost until Ctrl-C
	$(BIN)/luxebrain local

test: $(STAMP) $(SAM_STAMP) $(WEB_BUILD) chromium php-cli  ## lint, template checks and the whole test suite (what CI runs)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint infra/template.yaml
	$(MAKE) --no-print-directory sam-validate sam-build
	$(BIN)/python -m luxebrain_dev.openapi_export --check
	rm -rf $(IAM_TRACE)
	LUXEBRAIN_IAM_TRACE_DIR=$(IAM_TRACE) $(BIN)/pytest $(PYTEST_PARALLEL) $(SERIAL_TESTS:%=--ignore=%)
	LUXEBRAIN_IAM_TRACE_DIR=$(IAM_TRACE) $(BIN)/pytest $(SERIAL_TESTS)
	$(BIN)/python -m luxebrain_dev.iam_report $(IAM_TRACE) --check docs/iam.md
	$(MAKE) test-web
	$(MAKE) e2e

test-web: $(WEB_STAMP)  ## the dashboard's unit tests (Vitest)
	cd web && npm test

e2e: $(STAMP) $(WEB_BUILD) chromium  ## the dashboard in headless Chromium against `luxebrain local`
	cd web && npx playwright test

.PHONY: chromium
chromium:  ## Debian's Chromium for Playwright (its own browser download is not used)
	@test -x /usr/lib/chromium/chromium || command -v chromium >/dev/null || \
		(apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)

$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $(WEB_STAMP)

# The build type-checks against the client generated from web/openapi.json and writes the size report.
$(WEB_BUILD): $(WEB_STAMP) $(WEB_SOURCES)
	cd web && npm run build

iam-report: $(STAMP) $(SAM_STAMP)  ## the whole test suite, then docs/iam.md rewritten from what each function used
	rm -rf $(IAM_TRACE)
	LUXEBRAIN_IAM_TRACE_DIR=$(IAM_TRACE) $(BIN)/pytest -q $(PYTEST_PARALLEL) $(SERIAL_TESTS:%=--ignore=%)
	LUXEBRAIN_IAM_TRACE_DIR=$(IAM_TRACE) $(BIN)/pytest -q $(SERIAL_TESTS)
	$(BIN)/python -m luxebrain_dev.iam_report $(IAM_TRACE) --write docs/iam.md

# The unit tier has no schemathesis tests: not loading its plugin saves each process a few seconds.
test-unit: $(STAMP)  ## the fast loop: the unit tier alone, sockets refused (under a minute on 2 cores)
	$(BIN)/pytest -q $(PYTEST_PARALLEL) -p no:schemathesis tests/unit

bench: $(STAMP)  ## benchmarks against the real baseline libraries (not part of CI)
	$(BIN)/pip install -q -r benchmarks/requirements.txt
	$(BIN)/python -m benchmarks.run_all

$(STAMP): requirements.txt shared/requirements.txt requirements-dev.txt layers/ml/requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt -e .
	touch $(STAMP)

.PHONY: php-cli
php-cli:  ## the PHP CLI: php -l and the markup test of the WordPress plugin (integrations/wordpress)
	@command -v php >/dev/null || \
		(apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q php-cli)

$(SAM_STAMP): $(SAM_REQUIREMENTS)
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install -q -r $(SAM_REQUIREMENTS)
	touch $(SAM_STAMP)

sam-tools: $(SAM_STAMP)  ## the SAM CLI tool environment

sam-validate: $(SAM_STAMP)  ## the real SAM transform over infra/template.yaml (settings: samconfig.toml)
	$(SAM) validate --config-env $(ENV)

sam-build: $(SAM_STAMP)  ## sam build with python3.12; image functions only where Docker runs
	@test -n "$(PYTHON312)" || { echo "sam build needs python3.12 (Lambda's runtime): put it on PATH or 'pyenv install 3.12'" >&2; exit 1; }
	@if docker info >/dev/null 2>&1; then \
		echo "PATH+=$(dir $(PYTHON312)): sam build (Docker is running: image functions too)"; \
		PATH="$(dir $(PYTHON312)):$$PATH" $(SAM) build --config-env $(ENV); \
	else \
		echo "No Docker daemon: sam build skips the container-image function(s) $(IMAGE_FUNCTIONS)"; \
		PATH="$(dir $(PYTHON312)):$$PATH" $(SAM) build --config-env $(ENV) $(addprefix --exclude ,$(IMAGE_FUNCTIONS)); \
	fi

deploy: sam-build  ## sam deploy (ENV=prod for production; ARGS=--no-execute-changeset to only create the change set)
	$(SAM) deploy --config-env $(ENV) $(ARGS)

delete: $(SAM_STAMP)  ## sam delete of the ENV's stack (asks first; empty the models bucket before: docs/deploy.md)
	$(SAM) delete --config-env $(ENV) $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache benchmarks/out web/node_modules web/dist web/test-results .aws-sam
