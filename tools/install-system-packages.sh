#!/usr/bin/env bash
# Debian packages the build and the tests need; installs only what is missing.
#   graphviz   `dot`, which lays out the computational-graph figures
#   chromium   the real browser the site tests drive (through Playwright, no browser download)
set -euo pipefail
declare -A needed=([dot]=graphviz [chromium]=chromium)
missing=()
for cmd in "${!needed[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${needed[$cmd]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
