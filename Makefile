# bankbridge: see README.md. `make help` lists the targets.
GO ?= go
PKGS := ./...

.PHONY: help run test test-short bench fuzz lint fmt verify

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

run: ## run bankbridge with SQLite in ./data and the demo bank
	$(GO) run ./cmd/bankbridge

test: ## install/start what tests need, then run every test on both engines and in Chromium
	./scripts/test-env.sh
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 15m $(PKGS)

test-short: ## unit tests only, no setup
	$(GO) test -short $(PKGS)

bench: ## ledger throughput on both engines with the pgbench baseline (several runs, medians), via cmd/bankbridge-bench
	./scripts/bench-ledger.sh

fuzz: ## run every fuzz target in the module for FUZZTIME each (default 30s)
	GO=$(GO) ./scripts/fuzz.sh

lint: ## vet and gofmt
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }

fmt: ## gofmt everything
	gofmt -w .

verify: lint test ## everything CI checks, plus the race detector on the ledger
	$(GO) test -race -count=1 ./ledger/... ./store/...
