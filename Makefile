# Tollgate. `make dev` runs the whole stack; `make test` runs the lint gates, then every test.
GO      ?= go
BIN     := bin
GOTEST_FLAGS ?= -count=1 -timeout 30m

.PHONY: dev build test fuzz lint lint-tools bench fmt clean

dev: $(BIN)/tollgate-dev  ## run the all-in-one dev stack (Ctrl-C stops it)
	./$(BIN)/tollgate-dev

build:  ## build the production and dev binaries
	$(GO) build -o $(BIN)/tollgate ./cmd/tollgate
	$(GO) build -o $(BIN)/tollgate-dev ./cmd/tollgate-dev

$(BIN)/tollgate-dev: FORCE
	$(GO) build -o $@ ./cmd/tollgate-dev

$(BIN)/testpg: FORCE
	$(GO) build -o $@ ./internal/cmd/testpg

# The embedded Temporal server runs several times slower under the race
# detector (and takes many minutes to build with it), so the packages that
# link it (the dev-stack end-to-end tests, and internal/devtemporal, whose
# test checks cron strings against the server's parser) run without it;
# every other package runs with -race.
NORACE_PKGS := github.com/tollgate/tollgate/internal/devstack github.com/tollgate/tollgate/cmd/tollgate-dev github.com/tollgate/tollgate/internal/devtemporal

test: lint $(BIN)/testpg  ## the lint gates, every test (-race except the dev-stack end-to-end tests) against a private PostgreSQL, then bounded fuzzing
	@echo "== test: every package but the dev-stack end-to-end tests, with -race"
	./$(BIN)/testpg -- $(GO) test $(GOTEST_FLAGS) -race $$($(GO) list ./... | grep -v -x -F $(NORACE_PKGS:%=-e %))
	@echo "== test: packages that link the embedded Temporal server, without -race"
	./$(BIN)/testpg -- $(GO) test $(GOTEST_FLAGS) $(NORACE_PKGS)
	@$(MAKE) --no-print-directory fuzz

# Every fuzz target in the tree runs for FUZZTIME on top of its seeds (which
# every plain test run replays). A crasher the fuzzer finds is written to
# the package's testdata/fuzz/<Target>/ and fails the run; commit it, so it
# stays a seed.
FUZZTIME ?= 10s

fuzz:  ## run every fuzz target for FUZZTIME (default 10s)
	@set -e; for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for target in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go | sed 's/^func //'); do \
	    echo "== fuzz: $$target ($$dir) for $(FUZZTIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) $$dir; \
	  done; \
	done

# Linters, pinned in the tools module (tools/go.mod) so their dependencies
# never move the main go.mod. Each is rebuilt only when tools/go.mod or
# tools/go.sum is newer than the binary.
GOLANGCI_LINT := $(BIN)/golangci-lint
WORKFLOWCHECK := $(BIN)/workflowcheck

lint-tools: $(GOLANGCI_LINT) $(WORKFLOWCHECK)

$(GOLANGCI_LINT): tools/go.mod tools/go.sum
	@echo "== lint: building golangci-lint from tools/go.mod"
	$(GO) -C tools build -o ../$@ github.com/golangci/golangci-lint/v2/cmd/golangci-lint
	@touch $@

$(WORKFLOWCHECK): tools/go.mod tools/go.sum
	@echo "== lint: building workflowcheck from tools/go.mod"
	$(GO) -C tools build -o ../$@ go.temporal.io/sdk/contrib/tools/workflowcheck
	@touch $@

lint: lint-tools  ## go.mod/go.sum tidy (main and tools modules), golangci-lint (.golangci.yml), workflowcheck on workflows/
	@echo "== lint: go mod tidy -diff (main module, tools module)"
	$(GO) mod tidy -diff
	$(GO) -C tools mod tidy -diff
	@echo "== lint: golangci-lint run ./..."
	./$(GOLANGCI_LINT) run --allow-parallel-runners ./...
	@echo "== lint: workflowcheck ./workflows/..."
	./$(WORKFLOWCHECK) ./workflows/...

BENCH_N ?= 200000

bench: $(BIN)/testpg  ## benchmarks: ingest vs COPY, cycle latency over 1M transactions, scheduled fan-out of 1,000 contracts, ledger posting
	$(GO) build -o $(BIN)/tollgate-bench ./cmd/tollgate-bench
	./$(BIN)/tollgate-bench ingest -n $(BENCH_N)
	./$(BIN)/tollgate-bench cycle -n 1000000
	./$(BIN)/tollgate-bench fanout -n 1000
	./$(BIN)/testpg -- $(GO) test -run '^$$' -bench . -benchtime 2000x ./ledger/...

fmt:
	gofmt -w .

clean:
	rm -rf $(BIN)

FORCE:
