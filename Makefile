# The two commands of the README: `make demo` and `make test`. Everything else is a helper of those.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

WEB_STAMP := web/node_modules/.installed
WEB_BUILD := web/dist/index.html
WEB_SOURCES := $(shell find web/src -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json web/openapi.json

.PHONY: demo local test test-unit test-web e2e lint bench build clean

demo: $(STAMP) $(WEB_BUILD)  ## the whole system on an embedded AWS with a sample store
	$(BIN)/luxebrain demo

local: $(STAMP) $(WEB_BUILD)  ## keep the embedded AWS, the API and the dashboard running on localhost until Ctrl-C
	$(BIN)/luxebrain local

test: $(STAMP) $(WEB_BUILD) chromium php-cli  ## lint, template checks and the whole test suite (what CI runs)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint infra/template.yaml
	$(BIN)/python -m luxebrain_dev.openapi_export --check
	$(BIN)/pytest
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

test-unit: $(STAMP)  ## the fast loop: the unit tier alone (no moto server, about a minute on 2 cores)
	$(BIN)/pytest -q tests/unit

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

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache benchmarks/out web/node_modules web/dist web/test-results
