#!/usr/bin/env bash
# Debian packages the build and the tests need; installs only what is missing.
#   graphviz    `dot`, which lays out the computational-graph figures
#   bubblewrap  `bwrap`, the sandbox student code is graded in
#   chromium    the real browser the site tests drive (through Playwright, no browser download)
#   postgresql  a throw-away server the gradebook tests start on 127.0.0.1
set -euo pipefail
missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]}; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
