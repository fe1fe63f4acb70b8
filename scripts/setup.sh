#!/usr/bin/env bash
# Installs what outlast needs on a Debian machine, then its npm dependencies.
#   system: bubblewrap (the sandbox), python3, gcc and make (used by the built-in tasks), and
#           chromium (drives the web viewer's tests; skip it with OUTLAST_SETUP_BROWSER=0)
#   npm:    `npm ci` (which also builds outlast and its web viewer through the `prepare` script)
set -euo pipefail
cd "$(dirname "$0")/.."

want=()
command -v bwrap >/dev/null 2>&1 || want+=(bubblewrap)
command -v python3 >/dev/null 2>&1 || want+=(python3)
command -v gcc >/dev/null 2>&1 || want+=(gcc libc6-dev)
command -v make >/dev/null 2>&1 || want+=(make)
if [ "${OUTLAST_SETUP_BROWSER:-1}" = 1 ] && ! command -v chromium >/dev/null 2>&1; then want+=(chromium); fi

if [ ${#want[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "outlast setup: please install: ${want[*]} (no apt-get on this machine)" >&2
    exit 1
  fi
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "outlast setup: need root to install ${want[*]}: run as root or install them yourself" >&2
      exit 1
    fi
  fi
  echo "outlast setup: installing ${want[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
fi

npm ci --no-audit --no-fund
