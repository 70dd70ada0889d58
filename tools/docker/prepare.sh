#!/usr/bin/env bash
# Make this machine able to build and run docker-compose.yml without Docker Hub.
#
#   tools/docker/prepare.sh           install and start the engine, then build the base images
#   tools/docker/prepare.sh engine    install and start the engine only
#
# Docker Hub cannot be reached from CI, so the upstream images the Compose file names
# (python:3.11-slim-bookworm, debian:bookworm-slim, postgres:16-bookworm, redis:7-bookworm)
# are replaced in CI by local equivalents built from Debian's own packages:
#   abduction-ci/debian-python:bookworm  debootstrap minbase with Python 3.11 (python, venv)
#   abduction-ci/postgres:15-bookworm-uid999    Debian's postgresql-15 (bookworm has no 16) with an
#                                        entrypoint that reads the official image's variables
#   abduction-ci/redis:7-bookworm        Debian's redis-server 7.0
# Each is built once per machine and reused: the debootstrap image is skipped while one with
# the same recipe exists, the others come from Docker's layer cache after the first build.
set -euo pipefail
cd "$(dirname "$0")"

BASE_IMAGE=abduction-ci/debian-python:bookworm
POSTGRES_IMAGE=abduction-ci/postgres:15-bookworm-uid999
REDIS_IMAGE=abduction-ci/redis:7-bookworm
SUITE=bookworm
MIRROR=http://deb.debian.org/debian
INCLUDE=python3,python3-venv,python-is-python3,ca-certificates
# The recipe, stored as a label: a change to it builds the base image again.
RECIPE="debootstrap --variant=minbase --include=$INCLUDE $SUITE $MIRROR; host-ca v2"
# Where the base image keeps a copy of this machine's CA bundle. Nothing trusts it by
# default; CI's builds point pip at it (PIP_CERT), because the package registries are only
# reachable here through a proxy whose certificate that bundle holds.
HOST_CA_IN_IMAGE=/usr/local/share/ci/host-ca-certificates.crt
HOST_CA=${HOST_CA:-/etc/ssl/certs/ca-certificates.crt}
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/dockerd-ci.log}
ENGINE_WAIT_SECONDS=${ENGINE_WAIT_SECONDS:-60}
# Put on each image built here (never on the base: every layer built on it would inherit the
# label, and pruning by it would then empty the build cache).
LABEL=org.abduction-info.ci=1

log() { printf 'prepare.sh: %s\n' "$*" >&2; }

install_packages() {
  local need=()
  command -v dockerd >/dev/null || need+=(docker.io)
  command -v debootstrap >/dev/null || need+=(debootstrap)
  [ ${#need[@]} -eq 0 ] && return
  if [ "$(id -u)" -ne 0 ]; then
    log "missing ${need[*]}; install them as root (apt-get install ${need[*]})"
    exit 1
  fi
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

engine_up() { docker info >/dev/null 2>&1; }

# Tell whether pid $2 is a running (not a zombie) process named $1.
is_running() {
  [ -n "$2" ] && [ "$(cat "/proc/$2/comm" 2>/dev/null)" = "$1" ] &&
    [ "$(awk '{print $3}' "/proc/$2/stat" 2>/dev/null)" != Z ]
}

# Remove a pid file unless it names a running process called $1. An engine that was killed
# leaves them behind, and dockerd then refuses to start, or waits for a containerd that is
# gone, while any process (or a zombie) holds that number.
drop_stale_pid_file() {
  is_running "$1" "$(cat "$2" 2>/dev/null || true)" || rm -f "$2"
}

start_engine() {
  engine_up && return
  if [ "$(id -u)" -ne 0 ]; then
    log "the Docker engine is not running and only root can start it"
    exit 1
  fi
  local pid
  pid=$(cat /var/run/docker.pid 2>/dev/null || true)
  if is_running dockerd "$pid"; then
    log "dockerd ($pid) runs but does not answer yet; waiting for it"
  else
    drop_stale_pid_file dockerd /var/run/docker.pid
    drop_stale_pid_file containerd /var/run/docker/containerd/containerd.pid
    log "starting dockerd (log: $DOCKERD_LOG)"
    # Its own session, so the engine outlives this script and the shell that called it. (A
    # script has no job control, so setsid runs dockerd in place and $! is its pid.)
    setsid dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
    pid=$!
  fi
  local deadline=$((SECONDS + ENGINE_WAIT_SECONDS))
  until engine_up; do
    if ! is_running dockerd "$pid" || [ $SECONDS -ge $deadline ]; then
      log "dockerd stopped or did not answer within ${ENGINE_WAIT_SECONDS}s; its log ends:"
      tail -n 20 "$DOCKERD_LOG" >&2 || true
      exit 1
    fi
    sleep 0.5
  done
  log "engine ready ($(docker version --format '{{.Server.Version}}'))"
}

build_base_image() {
  local current
  current=$(docker image inspect --format "{{index .Config.Labels \"org.abduction-info.recipe\"}}" \
    "$BASE_IMAGE" 2>/dev/null || true)
  if [ "$current" = "$RECIPE" ]; then
    log "$BASE_IMAGE is up to date"
    return
  fi
  if [ "$(id -u)" -ne 0 ]; then
    log "$BASE_IMAGE is missing and only root can debootstrap it"
    exit 1
  fi
  local root
  root=$(mktemp -d /var/tmp/debootstrap.XXXXXX)
  # shellcheck disable=SC2064  # expand now: the trap must remove this very folder
  trap "rm -rf '$root'" RETURN
  log "debootstrap $SUITE into $root (about a minute)"
  local started=$SECONDS
  debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$root" "$MIRROR" >/dev/null
  # Downloaded packages and indexes are of no use in an image; derived images fetch fresh ones.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log
  install -D -m 0644 "$HOST_CA" "$root$HOST_CA_IN_IMAGE"
  tar -C "$root" --numeric-owner -c . | docker import \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "ENV LANG=C.UTF-8" \
    --change "LABEL org.abduction-info.recipe=\"$RECIPE\"" \
    --change 'CMD ["/bin/bash"]' \
    - "$BASE_IMAGE" >/dev/null
  log "built $BASE_IMAGE in $((SECONDS - started))s"
}

build_service_image() {
  local image=$1 folder=$2 started=$SECONDS output
  # Classic builder (no buildx here); host network so apt reaches the Debian mirror. Its
  # output (and its deprecation notice) is shown only when the build fails.
  if ! output=$(DOCKER_BUILDKIT=0 docker build --force-rm --network host --label "$LABEL" \
    --build-arg "BASE_IMAGE=$BASE_IMAGE" -t "$image" "$folder" 2>&1); then
    printf '%s\n' "$output" | tail -n 30 >&2
    log "building $image failed"
    exit 1
  fi
  log "built $image in $((SECONDS - started))s"
}

install_packages
start_engine
if [ "${1:-all}" = engine ]; then
  exit 0
fi
build_base_image
build_service_image "$POSTGRES_IMAGE" postgres
build_service_image "$REDIS_IMAGE" redis
# Layers that a rebuild replaced; only this project's (by label), never anyone else's.
docker image prune -f --filter "label=$LABEL" >/dev/null
