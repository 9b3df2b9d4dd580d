#!/bin/bash
# MongoDB for the helpdesk in compose: a one-member replica set with authentication.
#
# Authentication on a replica set needs a key file for the members' own traffic; it is made once
# in the data volume (mode 0400, owned by the mongodb user). The image's entrypoint then creates
# the root user (MONGO_INITDB_ROOT_USERNAME/PASSWORD) and runs initdb/ (one user per service) on
# the first start only.
set -euo pipefail

key=/data/db/.helpdesk-keyfile
if [ ! -s "$key" ]; then
    (umask 077; tr -dc 'A-Za-z0-9' </dev/urandom | head -c 756 >"$key")
fi
chmod 0400 "$key"
chown mongodb:mongodb "$key"

exec docker-entrypoint.sh mongod --replSet rs0 --bind_ip_all --keyFile "$key" "$@"
