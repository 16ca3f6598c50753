#!/usr/bin/env bash
# Sets up a fresh machine for optbench: Debian packages (the data set, oneDNN for the native backend,
# Chromium for the browser test, fonts for figures, Redis for spreading runs over machines; the tests
# start their own redis-server, never the system's), then npm ci (which builds the native addon) and
# the TypeScript build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(dataset-fashion-mnist libdnnl-dev chromium fonts-dejavu-core redis-server)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else sudo=(); fi
  if [ "$(id -u)" -eq 0 ] || [ ${#sudo[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "setup: please install these Debian packages (as root): apt-get install ${missing[*]}" >&2
  fi
fi

npm ci --no-audit --no-fund
npm run build
echo "setup: done"
