#!/bin/sh
# The official image is built with protected mode off, so that other containers may connect
# without a config file; Debian's binary has it on. Say so on the command line, before the
# service's own options (a later option wins, so a command can still turn it back on).
set -eu
if [ "${1:-}" = redis-server ]; then
    shift
    if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
        config=$1
        shift
        set -- redis-server "$config" --protected-mode no "$@"
    else
        set -- redis-server --protected-mode no "$@"
    fi
fi
exec "$@"
