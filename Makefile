# VirtEngine developer entry points.
#   make run    setup + single-validator localnet in the foreground (Ctrl-C stops it)
#   make test   setup + cargo tests + end-to-end + CosmJS interop + short reliability report
#   make bench  load benchmark vs the Cosmos SDK baseline (bench/run.sh)
#   make report reliability table: 100-perturbation fault run, simulation, fuzzing, load
#   make lint   rustfmt check + clippy -D warnings
#   make setup  install CometBFT, Debian packages, Node deps; build the release binary
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Toolchains and `go install`ed binaries (cometbft, the benchmark baseline) on PATH.
GOBIN_DIR := $(shell PATH="/usr/local/go/bin:$$PATH" go env GOBIN 2>/dev/null)
ifeq ($(GOBIN_DIR),)
GOBIN_DIR := $(shell PATH="/usr/local/go/bin:$$PATH" go env GOPATH 2>/dev/null)/bin
endif
export PATH := $(HOME)/.cargo/bin:/usr/local/go/bin:$(GOBIN_DIR):$(PATH)

TARGET_DIR := $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
VIRTENGINE := $(TARGET_DIR)/release/virtengine
LOCALNET_ARGS ?= --provider-daemon

.PHONY: help setup run test test-rust test-e2e test-cosmjs test-envelope report report-ci bench lint

help:
	@sed -n '2,7p' Makefile | sed 's/^# *//'

setup:
	bash scripts/setup.sh

run: setup
	exec $(VIRTENGINE) localnet start $(LOCALNET_ARGS)

# The CI-sized fault run is part of report-ci, so test-e2e skips it here.
test: setup
	cargo test --workspace --exclude ve-e2e
	$(MAKE) --no-print-directory test-e2e E2E_ARGS="--skip four_validators_survive" test-cosmjs test-envelope report-ci

test-rust:
	cargo test --workspace --exclude ve-e2e

test-e2e:
	@if [ -f tests/run-e2e.sh ]; then bash tests/run-e2e.sh $(E2E_ARGS); else echo "==> tests/run-e2e.sh not present: skipping end-to-end tests"; fi

test-cosmjs:
	@if [ -f tests/cosmjs/run.sh ]; then VIRTENGINE_BIN=$(VIRTENGINE) bash tests/cosmjs/run.sh; else echo "==> tests/cosmjs/run.sh not present: skipping CosmJS test"; fi

test-envelope:
	VIRTENGINE_BIN=$(VIRTENGINE) bash tests/envelope_libsodium/run.sh

report:
	bash scripts/report.sh

# Short report for CI (a few minutes): fails on a divergence, lost tx, crash, broken
# invariant or fuzz finding.
report-ci:
	bash scripts/report.sh --ci

bench:
	bash bench/run.sh

lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
