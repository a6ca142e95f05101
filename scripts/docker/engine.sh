#!/usr/bin/env bash
# A Docker engine for prodbench's docker tests (`make test-docker`): installs what is missing
# (dockerd, docker-compose 1.29, debootstrap) through apt, starts dockerd in the background
# when none answers, and waits for it. Safe to run again: an engine that answers is left alone.
#
#   scripts/docker/engine.sh [LOG_DIR]     (default: $PRODBENCH_DOCKER_DIR or /tmp/prodbench-docker)
#
# apt runs under `nice` (PRODBENCH_DOCKER_NICE, default 15). dockerd runs at
# PRODBENCH_DOCKERD_NICE (default 0), and so does everything it starts: a docker run's
# containers must get the CPU the local runtime's processes get, or a canary's latency
# analysis measures the host's other work (the harness' idle-priority suite) instead.
set -euo pipefail

LOG_DIR=${1:-${PRODBENCH_DOCKER_DIR:-/tmp/prodbench-docker}}
NICE=${PRODBENCH_DOCKER_NICE:-15}
DOCKERD_NICE=${PRODBENCH_DOCKERD_NICE:-0}
WAIT_SECONDS=${PRODBENCH_DOCKER_WAIT:-60}

say() { printf '\033[1m==>\033[0m %s\n' "$*"; }
die() { printf 'engine.sh: %s\n' "$*" >&2; exit 1; }
have_bin() { command -v "$1" >/dev/null 2>&1; }
answers() { docker info >/dev/null 2>&1; }

# What is missing, by binary: a docker CLI alone (without dockerd) is not an engine.
need_apt=()
have_bin dockerd || need_apt+=(docker.io)
have_bin docker-compose || need_apt+=(docker-compose)
have_bin debootstrap || need_apt+=(debootstrap)
if ((${#need_apt[@]})); then
  have_bin apt-get || die "missing ${need_apt[*]} and no apt-get: install Docker Engine, docker-compose and debootstrap with your package manager"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    have_bin sudo && SUDO="sudo" || die "need root or sudo to apt-get install ${need_apt[*]}"
  fi
  say "installing ${need_apt[*]} with apt-get"
  started=$(date +%s)
  $SUDO nice -n "$NICE" apt-get update -qq
  # Without systemd the package cannot start its service; that is fine, this script does.
  DEBIAN_FRONTEND=noninteractive $SUDO nice -n "$NICE" \
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  say "installed in $(($(date +%s) - started)) s"
fi
have_bin docker || die "no docker CLI after installing docker.io: is /usr/bin on PATH?"

if answers; then
  say "docker engine answers: $(docker info --format '{{.ServerVersion}} ({{.Driver}})')"
  exit 0
fi

mkdir -p "$LOG_DIR"
LOG="$LOG_DIR/dockerd.log"
PIDFILE="$LOG_DIR/dockerd.pid"
pid=""
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  pid=$(cat "$PIDFILE")
  say "dockerd (pid $pid) is starting; waiting for it"
elif [ -S /var/run/docker.sock ] && [ -f /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
  die "a dockerd (pid $(cat /var/run/docker.pid)) runs but does not answer \`docker info\`; see its log, or stop it and run this again"
else
  [ "$(id -u)" = 0 ] || die "dockerd needs root: run this as root, or start the engine yourself (systemctl start docker)"
  say "starting dockerd (nice $DOCKERD_NICE), log: $LOG"
  # Its own session, so it outlives the make or shell that started it.
  setsid nohup nice -n "$DOCKERD_NICE" dockerd >>"$LOG" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PIDFILE"
fi

for _ in $(seq "$WAIT_SECONDS"); do
  if answers; then
    say "docker engine answers: $(docker info --format '{{.ServerVersion}} ({{.Driver}})') (dockerd pid $pid)"
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || { tail -n 20 "$LOG" >&2; die "dockerd exited; its log above ($LOG)"; }
  sleep 1
done
tail -n 20 "$LOG" >&2
die "dockerd (pid $pid) did not answer \`docker info\` within $WAIT_SECONDS s; its log above ($LOG)"
