# The two commands a newcomer needs. Both install what a fresh Debian 12/13 machine lacks first:
# `make sandbox` only what the sandbox needs (.ci/install-sandbox), `make test` what CI needs
# (.ci/install: test servers, the browser, Python 3.13, uv, RabbitMQ, the uv workspace).
SHELL := /bin/bash

.PHONY: sandbox test bench

# The whole helpdesk on this machine: five services, local stand-ins, a web chat and an
# InfraManager simulator, until Ctrl-C; then it stops what it started, RabbitMQ included.
# Options: make sandbox ARGS="--pace 2 --port 9000 --keep --manual".
sandbox:
	@bash tools/sandbox/run.sh $(ARGS)

# What CI runs: ruff, mypy (strict) and the whole test suite.
test:
	bash .ci/run

# The benchmark (not part of the tests): N employees through the real pipeline, and the floors
# measured in the same run; writes bench/results.md. Options: make bench ARGS="--employees 50".
bench:
	. .ci/install && exec uv run python -m bench $(ARGS)
