# The image of each of the five services, from one recipe. Build from the repository root (the
# uv workspace), naming the service:
#   docker build --build-arg SERVICE=mailer -t helpdesk-mailer .
#   make images        # all five, with docker or podman, also without Docker Hub
# Configuration comes only from the environment and /run/secrets (see .env.example); nothing
# secret is baked in.

ARG PYTHON_IMAGE=python:3.13-slim

# --- manifests: every member's pyproject.toml and uv.lock, nothing else ------------------------
# uv needs the whole workspace's manifests to resolve one member. Filtering them out of the
# context here (instead of one COPY per member) keeps the dependency layer below cached across
# code changes and right when a member is added or moved.
FROM ${PYTHON_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN find . -type f ! -name pyproject.toml ! -name uv.lock -delete \
    && find . -depth -type d -empty -delete

# --- build: resolve from uv.lock into /app/.venv -------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ARG SERVICE
RUN case "${SERVICE}" in gateway|auth|mailer|inbox|janitor) ;; \
    *) echo "build with --build-arg SERVICE=gateway|auth|mailer|inbox|janitor" >&2; exit 1;; esac

# Pinned to the uv that wrote uv.lock; an older uv may not read a newer lock format.
ARG UV_VERSION=0.13.9
RUN pip install --no-cache-dir --disable-pip-version-check "uv==${UV_VERSION}"

# uv takes the base image's own Python 3.13 from PATH (never a download), whatever its path;
# the runtime stage starts from the same image, so the venv's interpreter link holds there.
# UV_NATIVE_TLS: trust the image's CA store (a stand-in base carries the host's extra CAs).
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON_PREFERENCE=only-system \
    UV_NATIVE_TLS=1 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_NO_CACHE=1

WORKDIR /src

# Dependencies first: this layer changes only when the lock or a member's metadata does.
COPY --from=manifests /src/ ./
RUN uv sync --frozen --no-dev --package "helpdesk-${SERVICE}" --no-install-workspace

# Then the code, installed as wheels (not editable) so the final stage needs nothing but the
# virtual environment; uv builds only this service and the members it depends on.
COPY . .
RUN uv sync --frozen --no-dev --package "helpdesk-${SERVICE}" --no-editable \
    && ln -s "helpdesk-${SERVICE}" /app/.venv/bin/helpdesk-service

# --- runtime: the interpreter and the virtual environment, nothing else -------------------------
FROM ${PYTHON_IMAGE} AS runtime

RUN groupadd --system --gid 10001 helpdesk \
    && useradd --system --uid 10001 --gid helpdesk --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin helpdesk

# Owned by root and read-only to the service user: the code cannot be changed at run time.
COPY --from=build /app/.venv /app/.venv

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HELPDESK_HTTP_HOST=0.0.0.0 \
    HELPDESK_HTTP_PORT=8080

WORKDIR /app
USER 10001:10001
EXPOSE 8080

# Ready = broker connected, consumers attached, MongoDB answering (503 otherwise: urlopen raises).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/ready' % os.environ.get('HELPDESK_HTTP_PORT', '8080'), timeout=4)"]

# SIGTERM (docker stop) stops consuming and lets in-flight handlers finish
# (HELPDESK_GRACEFUL_TIMEOUT_SECONDS); give the container a longer stop timeout than that.
# helpdesk-service is the service's console script (helpdesk-mailer, ...), linked at build.
STOPSIGNAL SIGTERM
CMD ["helpdesk-service"]
