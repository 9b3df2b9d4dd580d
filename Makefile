# The two commands a newcomer needs. Both install what a fresh Debian 12/13 machine lacks first
# (.ci/install: test servers, Python 3.13, uv, RabbitMQ, the uv workspace).
SHELL := /bin/bash

.PHONY: sandbox test

# The whole helpdesk on this machine: five services, local stand-ins, a web chat and an
# InfraManager simulator, until Ctrl-C. Options: make sandbox ARGS="--pace 2 --port 9000".
sandbox:
	. .ci/install && exec uv run helpdesk sandbox $(ARGS)

# What CI runs: ruff, mypy (strict) and the whole test suite.
test:
	bash .ci/run
