# shellcheck shell=bash
# Sourced by the image scripts: picks the container engine and the flags these machines need.
#
#   . deploy/images/engine.sh; engine build ...; engine run ...
#
# docker if its daemon answers, else podman. Podman 4.3 on these VMs (mixed cgroup v1/v2, root
# without CAP_SYS_RESOURCE) needs runc (crun: "cgroups in hybrid mode not supported"), the
# cgroupfs manager (no systemd), and container ulimits no higher than the machine's hard limits
# (podman's root defaults make runc fail with "error setting rlimit"). `--format docker` keeps
# the Dockerfile's HEALTHCHECK, which the OCI format silently drops.
# HELPDESK_ENGINE=docker|podman forces one.

ENGINE="${HELPDESK_ENGINE:-}"
if [[ -z "$ENGINE" ]]; then
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    ENGINE=docker
  elif command -v podman >/dev/null 2>&1; then
    ENGINE=podman
  else
    echo "no container engine: install podman (bash .ci/install-images) or start docker" >&2
    return 1 2>/dev/null || exit 1
  fi
fi
export ENGINE

# The limits a container may have: what this machine allows, never more. runc refused nproc
# above 32768 here even under a higher hard limit (measured), hence the cap.
_nofile=$(ulimit -Hn)
_nproc=$(ulimit -Hu)
[[ "$_nproc" == unlimited || "$_nproc" -gt 32768 ]] && _nproc=32768
[[ "$_nofile" == unlimited || "$_nofile" -gt 65536 ]] && _nofile=65536
ULIMIT_FLAGS=(--ulimit "nofile=$_nofile:$_nofile" --ulimit "nproc=$_nproc:$_nproc")

engine() {
  if [[ "$ENGINE" == podman ]]; then
    local runtime=()
    # crun fails on these hybrid-cgroup machines; runc works. Use runc whenever it is there.
    command -v runc >/dev/null 2>&1 && runtime=(--runtime "$(command -v runc)")
    podman "${runtime[@]}" --cgroup-manager cgroupfs "$@"
  else
    docker "$@"
  fi
}

# `engine_build ARGS...`: a build with the flags this engine needs (no registry pulls: the base
# is either present or built by base.sh).
engine_build() {
  if [[ "$ENGINE" == podman ]]; then
    engine build --format docker --pull=never "${ULIMIT_FLAGS[@]}" "$@"
  else
    DOCKER_BUILDKIT=0 docker build "$@"
  fi
}
