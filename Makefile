# Tollgate. `make dev` runs the whole stack; `make test` runs every test.
GO      ?= go
BIN     := bin
GOTEST_FLAGS ?= -count=1 -timeout 30m

.PHONY: dev build test test-short bench vet fmt clean

dev: $(BIN)/tollgate-dev  ## run the all-in-one dev stack (Ctrl-C stops it)
	./$(BIN)/tollgate-dev

build:  ## build the production and dev binaries
	$(GO) build -o $(BIN)/tollgate ./cmd/tollgate
	$(GO) build -o $(BIN)/tollgate-dev ./cmd/tollgate-dev

$(BIN)/tollgate-dev: FORCE
	$(GO) build -o $@ ./cmd/tollgate-dev

$(BIN)/testpg: FORCE
	$(GO) build -o $@ ./internal/cmd/testpg

test: $(BIN)/testpg  ## every test, against a private PostgreSQL started for this run
	$(GO) vet ./...
	./$(BIN)/testpg -- $(GO) test $(GOTEST_FLAGS) ./...

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
