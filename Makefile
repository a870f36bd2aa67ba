# wireprobe: `make run` and `make test` are the two entry points; both install what is missing.
SHELL := /bin/bash
CONFIG ?= examples/wireprobe.yaml
NODE ?= node

.PHONY: run test deps deps-test build lint typecheck deps-check unit integration bench docs clean

deps:
	@scripts/install-deps.sh run

deps-test:
	@scripts/install-deps.sh test

# native/udp-batch: the flow collector's batched UDP receiver (when it does not build, the
# collector receives with Node's dgram and says so); native/malloc-trim: glibc's malloc_trim after
# heap compactions (when it does not build, freed malloc memory is not given back, and wireprobe
# says so at start)
build: deps
	@rm -rf dist
	@npm run --silent build:native
	@npx tsc -p .

lint: deps
	@npx eslint --max-warnings 0 .

typecheck: deps
	@npx tsc -p . --noEmit

# the layers of src/ and no import cycles (.dependency-cruiser.cjs documents them); any violation
# fails.
deps-check: deps
	@npx depcruise src --config .dependency-cruiser.cjs --output-type err

# the flags and malloc settings of the packages (test/lab/packaged-runtime.ts)
run: build
	MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072 $(NODE) --max-semi-space-size=1 dist/src/main.js run --config $(CONFIG)

unit: build
	$(NODE) --test --test-concurrency=1 $(shell find dist/test/unit -name '*.test.js' | sort)

integration: build
	$(NODE) --test --test-concurrency=1 $(shell find dist/test/integration -name '*.test.js' | sort)

test: deps-test build lint typecheck deps-check
	$(NODE) --test --test-concurrency=1 $(shell find dist/test -name '*.test.js' | sort)

# docs/metrics.md, docs/config.md and docs/errors.md, generated from the metric declarations, the
# schema and the error catalog
# (test/unit/docs.test.ts fails when they are stale)
docs: build
	$(NODE) dist/scripts/gen-docs.js

bench: deps-test build
	$(NODE) dist/bench/engine-bench.js

clean:
	rm -rf dist
