#!/usr/bin/env bash
# `make sandbox`: install only what the sandbox needs, run it until Ctrl-C, then stop what this
# command started — RabbitMQ included, when it was not running before.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# A taken web chat port is told in one line before anything is installed or started.
port=8765
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --port) port="${args[i + 1]:-}" ;;
    --port=*) port="${args[i]#--port=}" ;;
  esac
done
if [[ -z "${TELEGRAM_BOT_TOKEN:-}" && "$port" =~ ^[0-9]+$ && "$port" != 0 ]] \
  && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "Port $port is in use (another sandbox?): stop it, or pick another port with" \
    "make sandbox ARGS=\"--port N\" (0 picks a free one)." >&2
  exit 2
fi

# RabbitMQ, if this command started it, is stopped however the command ends (a failed
# install or start included).
stop_rabbitmq() {
  if [[ "${HELPDESK_STARTED_RABBITMQ:-0}" == 1 ]]; then
    echo "Stopping RabbitMQ (started for this sandbox) ..."
    rabbitmqctl stop >/dev/null 2>&1 || echo "RabbitMQ did not stop: run rabbitmqctl stop" >&2
  fi
}
trap stop_rabbitmq EXIT

# shellcheck source=.ci/install-sandbox
. .ci/install-sandbox

# Ctrl-C reaches the sandbox, which stops everything it started and exits normally; then this
# script ends, and the trap stops RabbitMQ if it was the one that started it.
uv run --frozen --no-sync helpdesk sandbox "$@"
