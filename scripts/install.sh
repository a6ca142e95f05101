#!/usr/bin/env bash
# Install everything prodbench needs on this machine: system binaries (through apt when it is
# available) and a .venv with the package. Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
EXTRAS=${EXTRAS:-dev}

say() { printf '\033[1m==>\033[0m %s\n' "$*"; }

have_bin() { command -v "$1" >/dev/null 2>&1; }

need_apt=()
have_bin prometheus || need_apt+=(prometheus)
have_bin alertmanager || have_bin prometheus-alertmanager || need_apt+=(prometheus-alertmanager)
have_bin git || need_apt+=(git)
# Optional for a run (the app's Redis cache backend), needed by the test suite.
have_bin redis-server || need_apt+=(redis-server)
# Headless Chromium: the test suite opens the HTML report in it and checks the charts rendered.
have_bin chromium || have_bin chromium-browser || need_apt+=(chromium)

if ((${#need_apt[@]})); then
  if have_bin apt-get; then
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
      have_bin sudo && SUDO="sudo" || { echo "need root or sudo to apt-get install ${need_apt[*]}" >&2; exit 1; }
    fi
    say "installing ${need_apt[*]} with apt-get"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "missing: ${need_apt[*]}. Install them with your package manager" >&2
    echo "(macOS: brew install prometheus alertmanager git), then run this again." >&2
    exit 1
  fi
fi

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "prodbench needs Python 3.11 or newer; $PYTHON is $("$PYTHON" -V 2>&1)" >&2
  exit 1
fi

[ -x "$VENV/bin/python" ] || { say "creating $VENV"; "$PYTHON" -m venv "$VENV"; }

# Reinstall only when the dependency list changed since the last install.
stamp="$VENV/.prodbench-installed"
want="$(cat pyproject.toml | sha256sum | cut -d' ' -f1) $EXTRAS"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing prodbench[$EXTRAS] into $VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[$EXTRAS]"
  echo "$want" > "$stamp"
fi
say "ready: $VENV/bin/prodbench"
