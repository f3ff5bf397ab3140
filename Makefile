# eco2 — the two commands that matter: `make dev` and `make test`.
# Everything they need is installed on first use into .venv (by uv, from uv.lock).

SHELL := /bin/bash
PY    := .venv/bin/python
# uv from the PATH, else a private copy installed with pip into .tools/.
UV    := $(or $(shell command -v uv 2>/dev/null),.tools/bin/uv)

.PHONY: dev test install migrate clean help

help:
	@echo "make dev      run all seven functions behind one gateway on :8080 (ECO2_DEV_PORT)"
	@echo "make test     run the test suite (embedded PostgreSQL and Redis unless ECO2_TEST_*_URL)"
	@echo "make migrate  apply migrations to DATABASE_URL"
	@echo "make install  create .venv from uv.lock"

dev: install
	.venv/bin/eco2 dev

test: install
	$(PY) -m pytest

migrate: install
	.venv/bin/eco2 migrate

install: .venv/.installed

.venv/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	@touch $@

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv

clean:
	rm -rf .venv .tools .eco2
