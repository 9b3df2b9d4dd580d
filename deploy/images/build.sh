#!/usr/bin/env bash
# `make images`: the five service images from the one Dockerfile, with docker or podman.
# Builds the stand-in python:3.13-slim first when the registry is out of reach (base.sh).
# Tags helpdesk-<service>:${HELPDESK_IMAGE_TAG:-local} (the names docker-compose.yml uses).
# Usage: deploy/images/build.sh [SERVICE...]   (default: all five)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=deploy/images/engine.sh
. deploy/images/engine.sh

TAG="${HELPDESK_IMAGE_TAG:-local}"
BASE="${PYTHON_IMAGE:-python:3.13-slim}"
services=("$@")
((${#services[@]})) || services=(gateway auth mailer inbox janitor)

bash deploy/images/base.sh "$BASE"
for service in "${services[@]}"; do
  started=$SECONDS
  log="/tmp/helpdesk-image-$service.log"
  if ! engine_build --build-arg "SERVICE=$service" --build-arg "PYTHON_IMAGE=$BASE" \
      -t "helpdesk-$service:$TAG" -f Dockerfile . >"$log" 2>&1; then
    tail -40 "$log" >&2
    echo "helpdesk-$service: build failed (whole log: $log)" >&2
    exit 1
  fi
  size=$(engine image inspect --format '{{.Size}}' "helpdesk-$service:$TAG")
  printf 'helpdesk-%s:%s  %d MB  built in %d s\n' "$service" "$TAG" $((size / 1000000)) \
    $((SECONDS - started))
done
