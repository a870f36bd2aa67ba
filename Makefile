# wireprobe: `make run` and `make test` are the two entry points; both install what is missing.
SHELL := /bin/bash
CONFIG ?= examples/wireprobe.yaml
NODE ?= node

.PHONY: run test deps deps-test build lint typecheck unit integration bench docs clean

deps:
	@scripts/install-deps.sh run

deps-test:
	@scripts/install-deps.sh test

build: deps
	@rm -rf dist
	@npx tsc -p .

lint: deps
	@npx eslint --max-warnings 0 .

run: build
	$(NODE) dist/src/main.js run --config $(CONFIG)

unit:
	$(NODE) --test --test-concurrency=1 $(shell find dist/test/unit -name '*.test.js' | sort)

integration:
	$(NODE) --test --test-concurrency=1 $(shell find dist/test/integration -name '*.test.js' | sort)

test: deps-test build lint
	$(NODE) --test --test-concurrency=1 $(shell find dist/test -name '*.test.js' | sort)

# docs/metrics.md and docs/config.md, generated from the metric declarations and the schema
# (test/unit/docs.test.ts fails when they are stale)
docs: build
	$(NODE) dist/scripts/gen-docs.js

bench: deps-test build
	$(NODE) dist/bench/engine-bench.js

clean:
	rm -rf dist
