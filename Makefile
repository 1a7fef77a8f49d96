# ablate — developer entry points. `make test` is what CI runs (see .ci/run).
SHELL := /bin/bash
NODE_TEST := node --import tsx --test-reporter=spec
.PHONY: all build test unit lint typecheck generate demo bench clean

all: build

node_modules: package-lock.json
	npm ci --no-audit --no-fund
	@touch node_modules

build: node_modules
	npx tsc -p tsconfig.build.json

typecheck: node_modules
	npx tsc --noEmit

lint: node_modules
	npx eslint .

## Regenerates every generated file (the CRD, install manifests); tests fail when these are stale.
generate: node_modules
	npx tsx scripts/generate.ts

## The whole suite: lint, type check, build, then every test in one node process.
test: node_modules
	npx eslint .
	npx tsc --noEmit
	npx tsc -p tsconfig.build.json
	$(NODE_TEST) test/run.ts

## `make unit T=csv` runs only the test files whose path contains "csv".
unit: node_modules
	$(NODE_TEST) test/run.ts $(T)

## The reference study, locally: three ablations x three seeds on the demo model and data.
## Again after Ctrl-C it continues; after a finished study it reprints the table (nothing retrains).
## `make demo DEMO_FLAGS=--fresh` trains from scratch.
DEMO_FLAGS ?= --resume
demo: build
	node dist/cli/main.js run examples/science-exam/finetunejob.yaml $(DEMO_FLAGS)

bench: build
	npx tsx bench/run.ts

clean:
	rm -rf dist runs
