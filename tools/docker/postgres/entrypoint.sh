#!/bin/sh
# Create the cluster on first start the way the official postgres image does, then run the
# command. Only what docker-compose.yml uses and what an init script may need is supported.
set -eu
PGDATA=${PGDATA:-/var/lib/postgresql/data}

first_start() {
    user=${POSTGRES_USER:-postgres}
    database=${POSTGRES_DB:-$user}
    if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
        password=$(cat "$POSTGRES_PASSWORD_FILE")
    else
        password=${POSTGRES_PASSWORD:-}
    fi
    if [ -z "$password" ]; then
        echo "entrypoint: set POSTGRES_PASSWORD_FILE (or POSTGRES_PASSWORD)" >&2
        exit 1
    fi
    pwfile=$(mktemp)
    printf '%s\n' "$password" > "$pwfile"
    # Local socket connections inside the container are trusted (the healthcheck and init
    # scripts use them); every network connection needs the password (SCRAM).
    # shellcheck disable=SC2086  # POSTGRES_INITDB_ARGS is a list of words, as upstream
    initdb --username="$user" --pwfile="$pwfile" --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 \
        ${POSTGRES_INITDB_ARGS:-} -D "$PGDATA" >/dev/null
    rm -f "$pwfile"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"

    # A server on the socket only, for creating the database and running init scripts.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    if [ "$database" != postgres ]; then
        # psql quotes the name itself (:"name"); variables are not expanded in -c.
        echo 'CREATE DATABASE :"name";' |
            psql -v ON_ERROR_STOP=1 -U "$user" -d postgres -q -v name="$database"
    fi
    for script in /docker-entrypoint-initdb.d/*; do
        case $script in
            *.sql) psql -v ON_ERROR_STOP=1 -U "$user" -d "$database" -q -f "$script" ;;
            *.sh)
                # Sourced, as upstream does, so a script sees $user and $database.
                # shellcheck disable=SC1090  # the operator's scripts, found at run time
                . "$script"
                ;;
            *) ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    echo "entrypoint: created database $database owned by $user" >&2
}

if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
    first_start
fi
exec "$@"
