#!/usr/bin/env bash
# Local stand-ins for the images prodbench's compose files and Dockerfiles name (python,
# postgres, redis, minio, prometheus, alertmanager), for an engine with no registry, as on this
# project's CI machines. Listed in tests/docker/standins/images.txt, built from the folders
# beside it. A missing tag is pulled first when a registry answers (a failed pull costs well
# under a second); else its stand-in is built. A stand-in is rebuilt when its sources changed;
# an image that is not a stand-in (pulled) is left alone. One build at a time, niced.
#
#   scripts/docker/standins.sh [WORK_DIR]   (default: $PRODBENCH_DOCKER_DIR or /tmp/prodbench-docker)
#   PRODBENCH_STANDINS=build   never pull: stand-ins even where the registry answers
set -euo pipefail
cd "$(dirname "$0")/../.."

DIR=tests/docker/standins
WORK=${1:-${PRODBENCH_DOCKER_DIR:-/tmp/prodbench-docker}}
NICE=${PRODBENCH_DOCKER_NICE:-15}
LABEL=io.prodbench.standin
MODE=${PRODBENCH_STANDINS:-auto}
case "$MODE" in auto|build) ;; *) echo "standins.sh: PRODBENCH_STANDINS is auto or build, not $MODE" >&2; exit 2 ;; esac
export DOCKER_BUILDKIT=0  # the classic builder: it uses local base images without asking a registry

say() { printf '\033[1m==>\033[0m %s\n' "$*"; }
die() { printf 'standins.sh: %s\n' "$*" >&2; exit 1; }

docker info >/dev/null 2>&1 || die "no docker engine answers \`docker info\`: run scripts/docker/engine.sh first"
mkdir -p "$WORK"
# Another run of this script (a second make) waits instead of building beside this one.
exec 9>"$WORK/standins.lock"
flock 9

label_of() {  # the stand-in label of a local image; "-" when absent, "" when not a stand-in
  local out
  out=$(docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$1" 2>/dev/null) || { echo -; return; }
  [ "$out" = "<no value>" ] && out=""
  echo "$out"
}

sources_hash() {  # what a stand-in is built from: its folder, its base image, this machine's CA
  local sub=$1 extra=""
  if [ "$sub" = python ]; then
    extra=$(cat /etc/ssl/certs/ca-certificates.crt /etc/apt/sources.list.d/debian.sources 2>/dev/null | sha256sum)
  else
    extra=$(docker image inspect -f '{{.Id}}' python:3.11-slim)
  fi
  { (cd "$DIR/$sub" && find . -type f -print0 | sort -z | xargs -0 sha256sum); echo "$extra"; } \
    | sha256sum | cut -c1-16
}

summary=()
total_start=$(date +%s)
while read -r tag sub <&3; do  # fd 3: builds and pulls cannot eat the list
  case "$tag" in ''|'#'*) continue ;; esac
  [ -d "$DIR/$sub" ] || die "$DIR/images.txt names $sub, which is not a folder of $DIR"
  have=$(label_of "$tag")
  if [ "$have" = "" ]; then
    summary+=("$(printf '%-42s %-22s %5s' "$tag" "kept (not a stand-in)" -)")
    continue
  fi
  if [ "$have" = - ] && [ "$MODE" = auto ]; then
    started=$(date +%s)
    if timeout 900 nice -n "$NICE" docker pull -q "$tag" >"$WORK/pull.log" 2>&1; then
      summary+=("$(printf '%-42s %-22s %5s' "$tag" "pulled" "$(($(date +%s) - started))")")
      continue
    fi
  fi
  want=$(sources_hash "$sub")
  if [ "$have" = "$want" ]; then
    summary+=("$(printf '%-42s %-22s %5s' "$tag" "up to date" 0)")
    continue
  fi
  old=$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)
  say "building $tag (stand-in from $DIR/$sub)"
  log="$WORK/build-$sub.log"
  started=$(date +%s)
  if [ "$sub" = python ]; then
    "$DIR/python/build.sh" "$tag" "$want" "$WORK" >"$log" 2>&1 || { tail -n 30 "$log" >&2; die "building $tag failed; log: $log"; }
  else
    nice -n "$NICE" docker build --force-rm --label "$LABEL=$want" -t "$tag" "$DIR/$sub" >"$log" 2>&1 \
      || { tail -n 30 "$log" >&2; die "building $tag failed; log: $log"; }
  fi
  seconds=$(($(date +%s) - started))
  say "built $tag in $seconds s"
  summary+=("$(printf '%-42s %-22s %5s' "$tag" "$([ "$have" = - ] && echo built || echo rebuilt)" "$seconds")")
  new=$(docker image inspect -f '{{.Id}}' "$tag")
  [ -z "$old" ] || [ "$old" = "$new" ] || docker rmi "$old" >/dev/null 2>&1 || true
done 3<"$DIR/images.txt"

say "stand-in images ($(($(date +%s) - total_start)) s in all):"
printf '    %-42s %-22s %5s\n' TAG ACTION SECONDS
printf '    %s\n' "${summary[@]}"
