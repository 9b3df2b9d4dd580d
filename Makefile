# The two commands a newcomer needs. Both install what a fresh Debian 12/13 machine lacks first:
# `make sandbox` only what the sandbox needs (.ci/install-sandbox), `make test` what CI needs
# (.ci/install: test servers, the browser, Python 3.13, uv, RabbitMQ, the uv workspace).
SHELL := /bin/bash

.PHONY: sandbox test bench images images-smoke

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

# The five service images from the one Dockerfile, with docker or podman (podman: bash
# .ci/install-images); without Docker Hub it first builds a stand-in python:3.13-slim.
# Tags helpdesk-<service>:$(HELPDESK_IMAGE_TAG) (default local). See docs/operations.md.
images:
	bash deploy/images/build.sh

# The images as containers against the test servers (RabbitMQ vhost, Mongo-wire, slapd, Dovecot,
# SMTP sink, fake Bot API): ready, /health /ready /metrics, a ticket end to end, JSON logs only,
# SIGTERM -> exit 0; prints sizes and start/stop times. Needs `make images` first and the
# workspace set up (. .ci/install, as `make test` does). Options: ARGS="--keep --tag v1".
images-smoke:
	uv run python -m deploy.images.smoke $(ARGS)
