# telekernel — build, run, test.
#   make run    build and run the embedded default (`telekernel run`)
#   make test   install and start Kafka, ClickHouse and snmpd (deploy/local/), then run every test
SHELL := /bin/bash
GO    ?= go
BIN   ?= bin/telekernel
PY    ?= python3
# Test-side Python peers: pyarrow reads our Parquet files independently; chdb-core embeds a
# current ClickHouse engine to check the modern DDL and the analyst queries.
PY_TEST_DEPS ?= pyarrow==26.0.1 chdb-core==26.9.0
FUZZTIME ?= 60s
# Go's fuzzer minimizes every new interesting input for up to 60 s before it goes on, so on these
# decoders (inputs of 9-12 KB) fuzzing spent nearly all its time minimizing: 24 inputs and none
# new in a 30 s run. One execution per minimization keeps it fuzzing (210 000 inputs, 224 new, in
# 30 s); a crasher is then saved as found, not shrunk (FUZZMINIMIZETIME=60s shrinks it).
FUZZMINIMIZETIME ?= 1x
# grpcnotrace leaves out grpc-go's golang.org/x/net/trace (grpc.EnableTracing, which we never
# set) and what it pulls in: a quarter less code and read-only data (47 -> 35 MB), 3-4 MB less of it mapped
# (collectors/README.md, "Benchmarks").
TAGS  ?= grpcnotrace

.PHONY: all build run test test-unit services services-stop py-deps vet fmt check-fmt staticcheck fuzz bench clean

all: build

build:
	$(GO) build -tags $(TAGS) -o $(BIN) ./cmd/telekernel

run: build
	./$(BIN) run

# The whole suite, integration tests included: a missing service is a failure.
test: check-fmt vet services py-deps
	source deploy/local/env.sh && TK_INTEGRATION=1 $(GO) test -count=1 -timeout 30m ./...

# Unit tests only: integration tests skip when their service is not configured.
test-unit:
	$(GO) test ./...

services:
	bash deploy/local/services.sh start

services-stop:
	bash deploy/local/services.sh stop

py-deps:
	@$(PY) -c 'import pyarrow, chdb' 2>/dev/null || $(PY) -m pip install --quiet --disable-pip-version-check $(PY_TEST_DEPS)

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

check-fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi

staticcheck:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@latest ./...

# Each target fuzzes for FUZZTIME; a failing one does not stop the others, and the run fails at the end.
FUZZ_TARGETS ?= schemas:FuzzDecodeSamples schemas:FuzzDecodeDetection schemas:FuzzDecodePower \
	stages/detect:FuzzRestoreState detectors/rate:FuzzRefreshDecode stages/correlate:FuzzCorrelate \
	stages/power:FuzzRestoreState stages/maintain:FuzzRestoreState collectors/gnmi:FuzzDecode \
	config:FuzzParse backtest:FuzzReadLabels backtest:FuzzWideSource

fuzz:
	@failed=""; for t in $(FUZZ_TARGETS); do \
		pkg=./$${t%%:*} fn=$${t##*:}; echo "== $(GO) test $$pkg -fuzz $$fn"; \
		$(GO) test $$pkg -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) || failed="$$failed $$t"; \
	done; if [ -n "$$failed" ]; then echo "fuzz failed:$$failed"; exit 1; fi

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin telekernel-data
