#!/usr/bin/env bash
# python:3.11-slim's stand-in: a Debian bookworm minbase root with Python 3.11, pip and venv,
# imported as an image. It behaves as the official image where prodbench's Dockerfiles rely on
# it: `python` and `pip` on PATH, `pip install` into the system Python allowed (the official
# image's Python is not Debian-managed), groupadd/useradd present, this machine's CA bundle
# trusted by pip (PIP_CERT), and Debian's apt sources for stand-ins that add packages.
#   build.sh TAG LABEL WORKDIR
set -euo pipefail
TAG=$1 LABEL=$2 WORK=$3
NICE=${PRODBENCH_DOCKER_NICE:-15}
CA=/etc/ssl/certs/ca-certificates.crt
SOURCES=/etc/apt/sources.list.d/debian.sources

# The mirror this machine's apt uses (deb822 or one-line format), else Debian's own.
mirror=$(awk '/^URIs:/ {print $2; exit}' "$SOURCES" 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '/^deb / && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}

root="$WORK/python-root"
rm -rf "$root"
mkdir -p "$root"
trap 'rm -rf "$root"' EXIT
nice -n "$NICE" debootstrap --variant=minbase \
  --include=python3,python3-pip,python3-venv,passwd \
  bookworm "$root" "$mirror" >"$WORK/debootstrap.log" 2>&1 \
  || { tail -n 20 "$WORK/debootstrap.log" >&2; echo "debootstrap failed; log: $WORK/debootstrap.log" >&2; exit 1; }

ln -sf python3 "$root/usr/bin/python"
[ -e "$root/usr/bin/pip" ] || ln -s pip3 "$root/usr/bin/pip"
rm -f "$root"/usr/lib/python3*/EXTERNALLY-MANAGED
mkdir -p "$root/etc/ssl/certs"
cp "$CA" "$root$CA"
if [ -f "$SOURCES" ]; then  # the same suites as the host (updates, security), same mirrors
  cp "$SOURCES" "$root/etc/apt/sources.list.d/debian.sources"
  rm -f "$root/etc/apt/sources.list"
fi
# Packages stand-ins install must not start their services during a build.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb "$root"/tmp/*

tar -C "$root" -c . | nice -n "$NICE" docker import \
  -c "ENV PIP_CERT=$CA" \
  -c 'ENV LANG=C.UTF-8' \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c "LABEL io.prodbench.standin=$LABEL" \
  -c 'CMD ["python3"]' \
  - "$TAG" >/dev/null
