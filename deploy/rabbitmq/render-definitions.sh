#!/bin/sh
# Render the helpdesk's RabbitMQ definitions with each account's password hash, then run the
# command given (in compose: the image's own entrypoint and rabbitmq-server).
#
# deploy/rabbitmq/definitions.json (`helpdesk-admin permissions --definitions`) names every
# account with the placeholder hash "@@<user>@@". For each one this reads the password from
# RABBIT_PASSWORD_<USER> (user name upper-cased, - as _; e.g. RABBIT_PASSWORD_HELPDESK_GATEWAY)
# or from the file named by RABBIT_PASSWORD_<USER>_FILE (a compose/Docker secret), and writes
# RabbitMQ's salted SHA-256 hash in its place (rabbit_password_hashing_sha256: base64 of a 4-byte
# salt followed by SHA-256(salt + password)). A missing password stops the broker (exit 78, one line per
# missing password) rather than creating an account anyone could guess. Passwords never reach the output or logs.
set -eu

template=${HELPDESK_DEFINITIONS_TEMPLATE:-/etc/helpdesk/rabbitmq/definitions.json}
rendered=${HELPDESK_DEFINITIONS_RENDERED:-/var/lib/rabbitmq/helpdesk-definitions.json}

hash_password() {
    work=$(mktemp -d)
    head -c 4 /dev/urandom >"$work/salt"
    { cat "$work/salt"; printf '%s' "$1"; } | openssl dgst -sha256 -binary >"$work/digest"
    cat "$work/salt" "$work/digest" | base64 | tr -d '\n'
    rm -rf "$work"
}

password_of() {
    variable=RABBIT_PASSWORD_$(printf '%s' "$1" | tr 'a-z.-' 'A-Z__')
    eval "value=\${$variable:-}"
    eval "value_file=\${${variable}_FILE:-}"
    if [ -n "$value_file" ]; then
        value=$(cat "$value_file")
    fi
    printf '%s' "$value"
}

users=$(grep -o '"@@[^"@]*@@"' "$template" | tr -d '"@' | sort -u)
missing=0
for user in $users; do
    if [ -z "$(password_of "$user")" ]; then
        variable=RABBIT_PASSWORD_$(printf '%s' "$user" | tr 'a-z.-' 'A-Z__')
        echo "render-definitions: set $variable or ${variable}_FILE (the password of $user)" >&2
        missing=1
    fi
done
if [ "$missing" = 1 ]; then
    exit 78
fi

umask 077
tmp=$(mktemp)
cp "$template" "$tmp"
for user in $users; do
    hash=$(hash_password "$(password_of "$user")")
    # base64 has no '|': safe as the sed delimiter.
    sed -i "s|\"@@$user@@\"|\"$hash\"|" "$tmp"
done
mv "$tmp" "$rendered"
if [ "$(id -u)" = 0 ] && id rabbitmq >/dev/null 2>&1; then
    chown rabbitmq:rabbitmq "$rendered"
fi

if [ "$#" -gt 0 ]; then
    exec "$@"
fi
