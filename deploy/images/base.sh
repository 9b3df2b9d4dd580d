#!/usr/bin/env bash
# Make sure the base image the Dockerfile starts FROM (python:3.13-slim) is present.
#
# Present already: nothing to do. Docker Hub reachable: pull it. Otherwise (these VMs reach
# Debian's archive and PyPI but not Docker Hub) build a stand-in shaped like the official image
# and import it under the exact FROM name:
#   debootstrap --variant=minbase trixie (Debian 13: Python 3.13) with python3, venv, pip and
#   ca-certificates; /usr/local/bin/python3.13 (the path the official image has); no
#   EXTERNALLY-MANAGED marker (pip installs into the system, as in the official image); and the
#   host's extra CA certificates (/usr/local/share/ca-certificates), copied in at build time so
#   the build trusts what the host trusts (a TLS-inspecting proxy). They are never committed.
# About 60-80 s. Usage: deploy/images/base.sh [IMAGE]   (default python:3.13-slim)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source=deploy/images/engine.sh
. ./engine.sh

IMAGE="${1:-python:3.13-slim}"
SUITE="${HELPDESK_BASE_SUITE:-trixie}"
MIRROR="${HELPDESK_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if engine image inspect "$IMAGE" >/dev/null 2>&1; then
  echo "base image $IMAGE: present"
  exit 0
fi
if timeout 60 "$ENGINE" pull -q "$IMAGE" >/dev/null 2>&1; then
  echo "base image $IMAGE: pulled"
  exit 0
fi

echo "base image $IMAGE: the registry is out of reach; building a Debian $SUITE stand-in"
command -v debootstrap >/dev/null || { echo "debootstrap is missing: bash .ci/install-images" >&2; exit 1; }
root="$(mktemp -d /var/tmp/helpdesk-base.XXXXXX)"
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
  "$SUITE" "$root" "$MIRROR" >"$root.log" 2>&1 || { tail -30 "$root.log" >&2; exit 1; }
rm -f "$root.log"

shopt -s nullglob
extra_cas=(/usr/local/share/ca-certificates/*.crt)
if ((${#extra_cas[@]})); then
  cp "${extra_cas[@]}" "$root/usr/local/share/ca-certificates/"
fi
chroot "$root" update-ca-certificates >/dev/null

python="$(basename "$(readlink -f "$root/usr/bin/python3")")"   # python3.13
[[ "$python" == python3.13 ]] || { echo "$SUITE has $python, not python3.13" >&2; exit 1; }
ln -s "/usr/bin/$python" "$root/usr/local/bin/$python"
ln -s "$python" "$root/usr/local/bin/python3"
ln -s "$python" "$root/usr/local/bin/python"
rm -f "$root"/usr/lib/python3*/EXTERNALLY-MANAGED
# What the official slim image leaves out too: package lists, caches, docs.
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* \
  "$root"/var/cache/debconf/*-old "$root"/var/log/*.log

tar -C "$root" -c . | engine import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python3"]' \
  - "$IMAGE" >/dev/null
echo "base image $IMAGE: built ($(engine image inspect --format '{{.Size}}' "$IMAGE") bytes)"
